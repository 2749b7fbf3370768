// The shape of one job's results as results/summary.json and report.json carry them. Types only.
import type { JobState } from './manifest.js';

export interface ResultsSummary {
  part: string;
  jobId: string;
  state: JobState;
  successes: number;
  failures: number;
  warnings: number;
  pastEventWarnings: number;
  /** "Device clock skew detected" and "Anomaly detected: time skew" (LEANPLUM-API.md asks to count them) */
  clockSkewWarnings: number;
  timeSkewWarnings: number;
  byMessage: Record<string, number>;
  joined: boolean;
  note?: string;
  error?: string;
  /** earlier jobs of the same part that FAILED (or whose launch had no answer), replaced by --relaunch */
  replaced?: { jobId: string | null; outcome: 'FAILED' | 'unknown' | 'refused'; error: string | null }[];
}
