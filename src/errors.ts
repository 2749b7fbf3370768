/** The closed set of failure codes. Each maps to one exit code (the table below is the only one). */
export type ErrorCode =
  | 'INTERNAL'
  | 'CONFIG_INVALID'
  | 'INPUT_UNREADABLE'
  | 'INPUT_MALFORMED'
  | 'MISSING_COLUMN'
  | 'BAD_HEADER'
  | 'REJECT_RATE'
  | 'CONSERVATION'
  | 'CLAMP_STALE'
  | 'GCS_FAILED'
  | 'LEANPLUM_FAILED'
  | 'LAUNCH_UNKNOWN'
  | 'SEND_UNKNOWN'
  | 'LAUNCH_REFUSED'
  | 'JOB_FAILED'
  | 'JOB_ROW_FAILURES'
  | 'IO_FAILED'
  | 'RUN_LOCKED'
  | 'SAMPLED_OUTPUT'
  | 'OPTIONS_CHANGED'
  | 'STAGE_REFUSED'
  | 'STATE_CONFLICT'
  | 'ALREADY_IMPORTED';

export const EXIT: Readonly<Record<ErrorCode, number>> = {
  INTERNAL: 1,
  CONSERVATION: 1, // a conservation mismatch can only be a bug in this tool
  CONFIG_INVALID: 2,
  INPUT_UNREADABLE: 2,
  INPUT_MALFORMED: 2,
  MISSING_COLUMN: 2,
  BAD_HEADER: 2,
  CLAMP_STALE: 2,
  LAUNCH_REFUSED: 2,
  IO_FAILED: 2, // a local path that cannot be read or written: the user's to fix, not a bug
  RUN_LOCKED: 2,
  SAMPLED_OUTPUT: 2,
  OPTIONS_CHANGED: 2,
  STAGE_REFUSED: 2,
  STATE_CONFLICT: 2, // another task changed the run's state in GCS first: rerun to re-read and re-decide
  ALREADY_IMPORTED: 2, // the import ledger holds these inputs and options from another run: nothing uploaded or sent
  REJECT_RATE: 3,
  GCS_FAILED: 4,
  LEANPLUM_FAILED: 4,
  LAUNCH_UNKNOWN: 4,
  SEND_UNKNOWN: 4, // API sink: batches sent whose outcome nobody knows (resend or skip them on the user's word)
  JOB_FAILED: 5,
  JOB_ROW_FAILURES: 5,
};

export class BackfillError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BackfillError';
  }
}

export const exitCodeOf = (code: ErrorCode): number => EXIT[code];

/** What each errno means for a user, and what usually fixes it. */
const IO_ADVICE: Readonly<Record<string, [string, string]>> = {
  ENOENT: ['no such file or directory', 'Check the path.'],
  EACCES: ['permission denied', 'Check the file permissions, or choose a path you may write to.'],
  EPERM: ['operation not permitted', 'Check the file permissions, or choose a path you may write to.'],
  ENOTDIR: ['a part of the path is a file, not a directory', 'Choose a path whose parent directories are directories (e.g. another --out).'],
  EISDIR: ['is a directory, not a file', 'Give a file path, not a directory.'],
  ENOSPC: ['no space left on the device', 'Free some disk space (or use --out on another disk), then run the same command again.'],
  EDQUOT: ['disk quota exceeded', 'Free some space within the quota, then run the same command again.'],
  EIO: ['input/output error from the device', 'Check the disk or mount, then run the same command again.'],
  EROFS: ['read-only file system', 'Choose an --out on a writable file system.'],
  EMFILE: ['too many open files', 'Raise the open-file limit (ulimit -n), then run again.'],
  ENAMETOOLONG: ['file name too long', 'Choose a shorter path.'],
};

/**
 * A local file-system error (errno code + path, as Node's fs raises them) as a BackfillError with
 * one clear line; anything else is left alone (undefined).
 */
export function ioFailure(e: unknown): BackfillError | undefined {
  const x = e as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (!(x instanceof Error) || typeof x.code !== 'string') return undefined;
  const advice = IO_ADVICE[x.code];
  if (advice === undefined) return undefined;
  const where =
    x.path !== undefined ? ` ${x.syscall ?? 'access'} "${x.path}"${x.dest !== undefined ? ` → "${x.dest}"` : ''}` : ` ${x.syscall ?? 'access the file'}`;
  return new BackfillError('IO_FAILED', `cannot${where}: ${advice[0]} (${x.code})`, advice[1], { cause: e });
}
