// What the benchmark scripts share: a deterministic generator, a buffered file writer and the
// whole-process measurement (wall time + peak RSS reported by rss-probe).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

/** xorshift32 in [0, 1): every run of a bench measures the same bytes for the same seed. */
export function xorshift(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Writes generated text in 1 MB slices, waiting on the stream when it asks to. */
export async function writeGenerated(path: string, head: string, lines: (emit: (text: string) => Promise<void>) => Promise<void>): Promise<void> {
  const out = createWriteStream(path);
  let buf = head;
  await lines(async (text) => {
    buf += text;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  });
  out.end(buf);
  await once(out, 'finish');
}

export interface Measured {
  seconds: number;
  rssMb: number;
  code: number | null;
  stderr: string;
}

/** Runs a script in its own process with the RSS probe: wall seconds, peak RSS, exit code, stderr. */
export function measure(script: string, scriptArgs: string[], expectCode = 0, env: Record<string, string> = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', join(root, 'dist/scripts/rss-probe.js'), script, ...scriptArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const m = /@@peak-rss-kb (\d+)/.exec(err);
      if (code !== expectCode || !m) return reject(new Error(`${script} exited ${code} (expected ${expectCode}): ${err.slice(0, 2000)}`));
      resolve({ seconds, rssMb: Number(m[1]) / 1024, code, stderr: err.replace(/\n@@peak-rss-kb \d+\n/, '') });
    });
  });
}
