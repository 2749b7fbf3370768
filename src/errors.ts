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
  | 'LAUNCH_REFUSED'
  | 'JOB_FAILED'
  | 'JOB_ROW_FAILURES';

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
  REJECT_RATE: 3,
  GCS_FAILED: 4,
  LEANPLUM_FAILED: 4,
  LAUNCH_UNKNOWN: 4,
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
