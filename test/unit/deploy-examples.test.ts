// The deployment examples are copied by users as they are: every flag they pass must exist in the
// CLI they run (no docker or cluster here, so this is what can be checked), and the image must not
// run as root.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/run.js';

const flagsIn = (text: string) => [...new Set([...text.matchAll(/(?:^|[\s"'])(--[a-z][a-z-]*)(?==|\s|$)/gm)].map((m) => m[1]!))];

describe('deploy/ and the Dockerfile', () => {
  it.each(['deploy/k8s-indexed-job.yaml', 'deploy/cloud-run-job.sh'])('every lp-backfill flag in %s is one `run` accepts', async (file) => {
    const text = await readFile(join(repoRoot, file), 'utf8');
    // only the lines that make up lp-backfill's arguments (not kubectl's or gcloud's)
    const ours = text
      .split('\n')
      .filter(
        (l) =>
          /^\s+- --|^\s+--(out|shard|state-to|to|import-at|app-id|yes|log-format|timeout|sort-memory)/.test(l) &&
          !/gcloud|--project|--region|--image|--tasks|--cpu|--service-account|--set-secrets|--args|--max-retries|--task-timeout|--parallelism|--memory/.test(l),
      )
      .join('\n');
    const flags = flagsIn(ours);
    expect(flags.length).toBeGreaterThan(5);
    const help = (await runCli(['run', '--help'])).stdout;
    for (const f of flags) expect(help, `${file} passes ${f}`).toContain(f);
    expect(flags).toEqual(expect.arrayContaining(['--shard', '--state-to', '--import-at', '--yes']));
  });

  it('the image is node:20-slim, runs as a non-root user, with lp-backfill as its entrypoint', async () => {
    const text = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
    const stages = text.split(/^FROM /m).slice(1);
    const final = stages[stages.length - 1]!;
    expect(final.startsWith('node:20-slim')).toBe(true);
    expect(final).toMatch(/^USER (?!root\b)\w+/m);
    expect(final).toMatch(/^ENTRYPOINT \["lp-backfill"\]/m);
  });
});
