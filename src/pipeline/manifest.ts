import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { JobState } from '../leanplum/contract.js';
import { TOOL } from '../version.js';
import { readJson, writeJsonAtomic } from './json-file.js';

export interface PartState {
  file: string;
  rows: number;
  bytes: number;
  bucket?: string;
  object?: string;
  upload?: { at: string; outcome: 'uploaded' | 'already-there'; crc32c: string; size: number; generation: string };
  public?: { since: string; until?: string; exposedSeconds?: number };
  /** 'launching' is written before the POST: found after a crash, the outcome is unknown */
  launch?: { status: 'launching' | 'launched' | 'refused'; startedAt: string; jobId?: string; launchedAt?: string; message?: string; attempts: number };
  job?: { state: JobState; checkedAt: string; successes?: number; failures?: number; files?: string[]; error?: string; pastEventWarnings?: number; warnings?: number };
  deletedAt?: string;
}

export interface Manifest {
  schemaVersion: 1;
  runId: string;
  createdAt: string;
  updatedAt: string;
  tool: { name: string; version: string };
  transform?: {
    at: string;
    inputs: { name: string; bytes: number; sha256: string }[];
    importAt: string;
    staleAfter: string;
    rejectRateExceeded: boolean;
  };
  target?: { bucket: string; prefix: string; token: string };
  leanplum?: { appId: string; apiUrl: string };
  parts: PartState[];
}

export const manifestPath = (dir: string) => join(dir, 'manifest.json');

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
}

export async function loadManifest(dir: string): Promise<Manifest | undefined> {
  return readJson<Manifest>(manifestPath(dir));
}

export async function saveManifest(dir: string, m: Manifest, now: Date = new Date()): Promise<void> {
  m.updatedAt = now.toISOString();
  await writeJsonAtomic(manifestPath(dir), m);
}

export function emptyManifest(now: Date): Manifest {
  return { schemaVersion: 1, runId: newRunId(now), createdAt: now.toISOString(), updatedAt: now.toISOString(), tool: { ...TOOL }, parts: [] };
}
