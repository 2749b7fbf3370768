// The shape of manifest.json, the run's durable state. Types only: every layer may read them.
// Versioned: a change that an older lp-backfill would misread bumps MANIFEST_SCHEMA_VERSION.

export const MANIFEST_SCHEMA_VERSION = 2;

export type JobState = 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED';

/** A launch that did not end well, kept for the record when the part is launched again. */
export interface LaunchHistoryEntry {
  /** FAILED: the job ran and failed; unknown: the POST got no answer; refused: Leanplum said no */
  outcome: 'FAILED' | 'unknown' | 'refused';
  startedAt: string;
  jobId?: string;
  launchedAt?: string;
  error?: string;
  /** when this entry was closed by a new launch */
  replacedAt: string;
  public?: { since: string; until?: string; exposedSeconds?: number };
}

/** transformed → uploaded → launching → launched → finished | failed (run/part-stage.ts changes it) */
export type PartStage = 'transformed' | 'uploaded' | 'launching' | 'launched' | 'finished' | 'failed';

export interface PartState {
  file: string;
  /** the canary's part (issue 20): launched or sent alone and first; the rest waits for its verdict */
  canary?: boolean;
  /** absent in manifests written before it existed: then derived from upload, launch and job */
  stage?: PartStage;
  rows: number;
  bytes: number;
  /** of the committed file: upload refuses a file that no longer matches */
  sha256: string;
  bucket?: string;
  object?: string;
  upload?: { at: string; outcome: 'uploaded' | 'already-there'; crc32c: string; size: number; generation: string };
  public?: { since: string; until?: string; exposedSeconds?: number };
  /** 'launching' is written (durably) before the POST: found after a crash, the outcome is unknown */
  launch?: { status: 'launching' | 'launched' | 'refused'; startedAt: string; jobId?: string; launchedAt?: string; message?: string; attempts: number };
  job?: {
    state: JobState;
    checkedAt: string;
    successes?: number;
    failures?: number;
    files?: string[];
    error?: string;
    pastEventWarnings?: number;
    warnings?: number;
  };
  /** earlier launches of this part (FAILED jobs, unknown outcomes), oldest first */
  history?: LaunchHistoryEntry[];
  deletedAt?: string;
}

export interface TransformRecord {
  at: string;
  /** gs:// inputs also carry the object generation read (a resume requires the same) and its crc32c */
  inputs: {
    name: string;
    bytes: number;
    sha256: string;
    generation?: string;
    crc32c?: string;
    /** how it was read (--format, --delimiter, or what auto found): the import identity takes these, not the flags as typed */
    format?: string;
    delimiter?: string;
  }[];
  /** what clean.lines numbers its inputs by: each input, or each zip entry as <zip>:<entry> */
  units?: string[];
  importAt: string;
  /** --import-at given explicitly (a default "now" is not an option to compare on resume) */
  importAtGiven: boolean;
  /** the real clock at the transform (future rows are judged against the earlier of it and importAt); absent in older runs */
  clock?: string;
  staleAfter: string;
  /** n when only the first n rows were read (preview --sample): never uploadable */
  sampled: number | null;
  rejectRate: number;
  maxRejectRate: number;
  rejectRateExceeded: boolean;
  conservationOk: boolean;
  /** the effective transform options by flag name, and their hash: a resume must match */
  options: Record<string, unknown>;
  optionsHash: string;
  /** Leanplum's billable lookups of the clean file(s) as written (unique users per 50-row batch), when known */
  billableLookups?: number;
}

export interface Manifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  runId: string;
  createdAt: string;
  updatedAt: string;
  tool: { name: string; version: string };
  /** set while a transform's outputs are being moved in: found after a crash, the output is mixed */
  committing?: { startedAt: string; staging: string };
  /** --state-to: where the authoritative copy of this manifest lives (every command then saves there too) */
  stateUrl?: string;
  transform?: TransformRecord;
  target?: { bucket: string; prefix: string; token: string };
  leanplum?: { appId: string; apiUrl: string };
  /** the import ledger this run recorded itself in (before its first launch or send): saves keep its entry current */
  importLedger?: { url: string; identity: string };
  /** where the rows go: the GCS CSV import job (absent in older manifests) or the JSON multi API (send-ledger.ndjson holds its state) */
  sink?: 'csv-job' | 'api';
  /** the API sink's send: started, and completed once every batch has an outcome */
  send?: { startedAt: string; completedAt?: string; batches?: number; billableLookups?: number };
  parts: PartState[];
  /**
   * The canary (issue 20): its part, users and rows (from the transform), and its verdict once
   * its part was imported (or sent) and judged. The gate itself is judged again from the part's
   * job (or the send ledger) with each command's --canary-max-failures: a canary that passed is
   * not imported again; one that stopped lets nothing else go until the allowance covers it.
   */
  canary?: {
    part: string;
    users?: number;
    rows?: number;
    verdict?: 'passed' | 'stopped';
    failedRows?: number;
    pastEventWarnings?: number;
    /** API sink: canary rows whose answer was lost and left (--skip-unknown), counted against the allowance */
    unknownRows?: number;
    maxFailures?: number;
    at?: string;
  };
}
