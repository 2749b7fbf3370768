import type { LeanplumClient } from '../leanplum/client.js';
import type { JobState, Manifest } from '../model/manifest.js';
import { loadManifest } from './manifest.js';
import { apiUrlGate, enforce, partStage, type PartStage } from './run-machine.js';

export interface PartStatus {
  file: string;
  rows: number;
  stage: PartStage;
  jobId?: string;
  /** what Leanplum says now (when asked), else what the manifest last recorded */
  state?: JobState;
  /** earlier jobs replaced by --relaunch */
  replaced: number;
}

/** Jobs worth asking Leanplum about: launched and not known to have ended. */
export const jobsToAsk = (m: Manifest): string[] =>
  m.parts.filter((p) => p.launch?.status === 'launched' && p.launch.jobId && p.job?.state !== 'FINISHED' && p.job?.state !== 'FAILED').map((p) => p.launch!.jobId!);

/**
 * Read-only: the run as the manifest has it, with the live state of unfinished jobs when a client
 * is given. Takes no lock and writes nothing, so it is safe beside a running `run` or `wait`.
 */
export async function readRunStatus(dir: string, ask: { client: LeanplumClient; apiUrl: string } | undefined): Promise<{ manifest: Manifest; parts: PartStatus[] }> {
  const m = await loadManifest(dir);
  if (m === undefined) enforce({ gate: 'no-transform', message: `${dir} holds no run (no manifest.json)`, fix: 'Give the --out directory of a transform or run.' });
  const man = m!;
  if (ask !== undefined) enforce(apiUrlGate(man, ask.apiUrl));
  const client = ask?.client;
  const parts: PartStatus[] = [];
  for (const p of man.parts) {
    const s: PartStatus = { file: p.file, rows: p.rows, stage: partStage(p), replaced: p.history?.length ?? 0 };
    const jobId = p.launch?.status === 'launched' ? p.launch.jobId : undefined;
    if (jobId !== undefined) {
      s.jobId = jobId;
      const ended = p.job?.state === 'FINISHED' || p.job?.state === 'FAILED';
      if (client !== undefined && !ended) s.state = (await client.status(jobId)).state;
      else if (p.job !== undefined) s.state = p.job.state;
    }
    parts.push(s);
  }
  return { manifest: man, parts };
}
