import { readFile } from 'node:fs/promises';
import { BackfillError } from '../../errors.js';
import { makeStorage, type GcsOptions } from '../../gcs/storage.js';
import { LeanplumClient } from '../../leanplum/client.js';
import { MultiClient } from '../../leanplum/multi-client.js';
import { scrubError } from '../../leanplum/redact.js';
import type { Log } from '../../run/log.js';
import { canaryStatus, jobsToAsk, loadRuns, readRunStatus, totals, type RunStatus } from '../../pipeline/status.js';
import { launchRun, runBackfill, uploadRun, waitRun, type PipelineDeps } from '../../pipeline/run.js';
import { confirmOnTty } from '../confirm.js';
import type {
  CommonOptions,
  GcsFlags,
  LaunchCommandOptions,
  RunCommandOptions,
  StatusCommandOptions,
  UploadCommandOptions,
  WaitCommandOptions,
} from '../command-options.js';
import { againCommand, logEvent, progressFor, stdinSource } from '../context.js';
import { renderShown } from '../render.js';
import { fastPathFromEnv, inputStorage } from './transform.js';
import { prodKey, sendAdvice } from './send.js';

// The cloud commands: parse (done by the options layer), call the orchestrator (pipeline/run.ts),
// render what it shows. The keys are read here, from the environment or --client-key-file, and
// scrubbed from any error whatever path it took.

function gcsOptions(g: GcsFlags, env: NodeJS.ProcessEnv = process.env): GcsOptions {
  return {
    apiEndpoint: env['STORAGE_EMULATOR_HOST'] || undefined,
    projectId: env['GOOGLE_CLOUD_PROJECT'] || undefined,
    chunkSize: g.chunkSize,
  };
}

async function devKey(keyFile: string | undefined): Promise<string> {
  if (keyFile !== undefined) {
    try {
      const key = (await readFile(keyFile, 'utf8')).trim();
      if (key) return key;
    } catch (e) {
      throw new BackfillError('CONFIG_INVALID', `client-key-file: cannot read "${keyFile}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    throw new BackfillError('CONFIG_INVALID', `client-key-file: "${keyFile}" is empty`);
  }
  const env = process.env['LEANPLUM_DEV_KEY']?.trim();
  if (env) return env;
  throw new BackfillError(
    'CONFIG_INVALID',
    "no Leanplum key: CSV imports need the app's Development key",
    'Set LEANPLUM_DEV_KEY (or pass --client-key-file <path>). Keys are never accepted as flag values, so they stay out of shell history and process lists.',
  );
}

const logger =
  (o: CommonOptions): Log =>
  (event, fields, text) =>
    logEvent(o, event, fields, text);

/** Wraps a command so that no error can carry the key out, whatever path it took. */
export async function scrubbed<T>(key: () => string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    scrubError(e, key());
    throw e;
  }
}

const noKey = (what: string) => () => {
  throw new Error(`internal: ${what} asked for without its key`);
};

/**
 * What the orchestrator needs from the outside world: the clocks, the clients (the key read here,
 * once), the terminal, and where to show what each stage did.
 */
function pipelineDeps(o: CommonOptions & { inputs?: string[] }, gcs: GcsFlags, keys: { dev?: string; prod?: string }): PipelineDeps {
  const log = logger(o);
  const g = gcsOptions(gcs);
  let storage: ReturnType<typeof makeStorage> | undefined;
  const progress = o.inputs !== undefined ? progressFor(o) : { update: () => undefined, done: () => undefined };
  return {
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log,
    progress,
    stdin: o.inputs !== undefined ? stdinSource(o.inputs) : undefined,
    inputStorage,
    fastPath: fastPathFromEnv(),
    storage: () => (storage ??= makeStorage(g)),
    gcs: g,
    leanplum:
      keys.dev === undefined
        ? noKey('the Development key')
        : (app) =>
            new LeanplumClient({
              ...app,
              clientKey: keys.dev!,
              onRetry: (what, attempt, delay, reason) =>
                log(
                  'retry',
                  { what, attempt, delayMs: delay, reason },
                  `retry      ${what} attempt ${attempt} failed (${reason}); next in ${(delay / 1000).toFixed(1)}s`,
                ),
            }),
    multi:
      keys.prod === undefined
        ? noKey('the Production key')
        : (app) =>
            new MultiClient({
              ...app,
              clientKey: keys.prod!,
              onRetry: (attempt, delayMs, reason) =>
                log('retry', { attempt, delayMs, reason }, `retry      ${reason}; attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)}s`),
            }),
    confirm: async (summary) => {
      if (!process.stdin.isTTY || !process.stderr.isTTY) return 'no-terminal';
      process.stderr.write(summary + '\n');
      return (await confirmOnTty('Launch now?')) ? 'yes' : 'no';
    },
    sendCommand: sendAdvice,
    again: againCommand,
    show: (x) => renderShown(x, o, (text) => process.stdout.write(text), log),
  };
}

/** Every command that talks to Leanplum: the key is read once, before any work, and scrubbed from any error. */
async function withKey<T>(read: () => Promise<string>, fn: (key: string) => Promise<T>): Promise<T> {
  let key: string | undefined;
  return scrubbed(
    () => key,
    async () => {
      key = await read();
      return fn(key);
    },
  );
}

export async function uploadCommand(o: UploadCommandOptions): Promise<void> {
  await uploadRun(o, pipelineDeps(o, o.gcs, {}));
}

export async function launchCommand(o: LaunchCommandOptions): Promise<void> {
  await withKey(
    () => devKey(o.leanplum.keyFile),
    (dev) => launchRun(o, pipelineDeps(o, o.gcs, { dev })),
  );
}

export async function waitCommand(o: WaitCommandOptions): Promise<void> {
  await withKey(
    () => devKey(o.leanplum.keyFile),
    (dev) => waitRun(o, pipelineDeps(o, o.gcs, { dev })),
  );
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Read-only: no lock, no writes. One or many runs (shards): directories or --state-to URLs; asks
 * Leanplum only about jobs not known to have ended, and needs the key only then.
 */
export async function statusCommand(o: StatusCommandOptions): Promise<void> {
  const storage = () => makeStorage(gcsOptions(o.gcs));
  const { runs: found, missing, warnings } = await loadRuns(o.wheres, storage);
  const show = async (c: { client: LeanplumClient; apiUrl: string } | undefined) => {
    const runs: RunStatus[] = [];
    for (const r of found)
      runs.push(await readRunStatus(r.where, r.manifest, c && jobsToAsk(r.manifest).length > 0 ? { client: c.client, apiUrl: c.apiUrl } : undefined));
    const n = (x: number) => x.toLocaleString('en-US');
    for (const r of runs) {
      if (r.manifest.committing !== undefined)
        process.stdout.write(
          `warning    ${r.where}: a transform stopped while moving its outputs in (${r.manifest.committing.startedAt}); transform again before anything else\n`,
        );
      for (const p of r.manifest.parts)
        if (p.public && !p.public.until)
          process.stdout.write(`warning    ${r.where}: ${p.object ?? p.file} is publicly readable since ${p.public.since} (--public-while-importing)\n`);
      const shard = r.manifest.transform?.options['shard'];
      process.stdout.write(
        `run        ${r.where}: ${r.manifest.runId}${typeof shard === 'string' ? ` (shard ${shard})` : ''}${r.manifest.transform?.sampled != null ? ` (sampled preview: ${r.manifest.transform.sampled} rows)` : ''}\n`,
      );
      for (const p of r.parts) {
        if (p.jobId !== undefined)
          process.stdout.write(`job        ${p.file} ${p.jobId}: ${p.state ?? 'unknown'}${p.replaced > 0 ? ` (${p.replaced} earlier job(s) replaced)` : ''}\n`);
        else process.stdout.write(`part       ${p.file}: ${p.stage}, ${n(p.rows)} rows\n`);
      }
      const canary = canaryStatus(r.manifest);
      if (canary !== undefined) process.stdout.write(`${canary}\n`);
    }
    for (const w of warnings) process.stdout.write(`warning    ${w}\n`);
    for (const m of missing) process.stdout.write(`missing    ${m}: no state saved yet (the task has not started, or gave up): its users are not imported\n`);
    if (runs.length > 1 || missing.length > 0) {
      const t = totals(runs, missing);
      process.stdout.write(
        `total      ${plural(t.runs, 'run')}, ${plural(t.parts, 'part')}, ${plural(t.rows, 'row')}; ${Object.entries(t.byState)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}\n`,
      );
      process.stdout.write(`           not finished: ${t.notFinished.length === 0 ? 'none' : t.notFinished.join(', ')}\n`);
      if (t.billableLookups !== null) process.stdout.write(`           billable lookups (as written): ${n(t.billableLookups)}\n`);
    }
  };
  const asking = found.filter((r) => jobsToAsk(r.manifest).length > 0);
  // the app the runs recorded at their launch, when they agree: status need not ask for it
  const apps = [...new Set(asking.map((r) => r.manifest.leanplum?.appId).filter((x) => x !== undefined))];
  if (asking.length === 0) return show(undefined);
  const appId = o.leanplum.appId ?? (apps.length === 1 ? apps[0] : undefined);
  if (!appId) throw new BackfillError('CONFIG_INVALID', 'app-id: required', 'Give --app-id <your Leanplum app id>.');
  await withKey(
    () => devKey(o.leanplum.keyFile),
    (dev) => show({ client: pipelineDeps(o, o.gcs, { dev }).leanplum({ appId, apiUrl: o.leanplum.apiUrl }), apiUrl: o.leanplum.apiUrl }),
  );
}

/**
 * transform → report → upload → launch → wait, or with --sink api transform → report → send,
 * resuming at the first unfinished stage (pipeline/run.ts). The CSV job takes the Development key,
 * the API sink the Production key (LEANPLUM_DEV_KEY is never read for it).
 */
export async function runCommand(o: RunCommandOptions): Promise<void> {
  const r =
    o.sink === 'api'
      ? await withKey(
          () => prodKey(o.leanplum.keyFile, process.env),
          (prod) => runBackfill(o, pipelineDeps(o, o.gcs, { prod })),
        )
      : await withKey(
          () => devKey(o.leanplum.keyFile),
          (dev) => runBackfill(o, pipelineDeps(o, o.gcs, { dev })),
        );
  process.stdout.write(`manifest   ${r.dir}/manifest.json${r.stateUrl ? ` (and ${r.stateUrl})` : ''}\n`);
}
