import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './run.js';

export const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  stdin?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts the built CLI as a user would (npm test builds first); the caller may kill it. */
export function startCli(args: readonly string[], opts: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  child.stdin!.end(opts.stdin ?? '');
  return { child, done };
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** The commands a message gives as advice: the `lp-backfill …` texts between backticks. */
export const adviceIn = (text: string): string[] => [...text.matchAll(/`(lp-backfill [^`]+)`/g)].map((m) => m[1]!);

/**
 * Runs a command line exactly as printed, through a real shell (bash), with `lp-backfill` being the
 * built CLI. Asynchronously: the stand-ins answer from this very process.
 */
export function runShell(command: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `lp-backfill() { "${process.execPath}" "${CLI}" "$@"; }\n${command}`], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
