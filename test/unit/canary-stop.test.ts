import { describe, expect, it } from 'vitest';
import { canaryStopped } from '../../src/sinks/canary.js';

// The canary's stop (issue 20): what it says of the failed rows must be true of this directory.
const judged = { part: 'clean-part-001.csv', verdict: 'stopped' as const, failedRows: 1, pastEventWarnings: 0, maxFailures: 0, users: 100, rows: 200 };

describe('canary stop message', () => {
  it('with the rows read: each shown with its source line, and where they are', () => {
    const e = canaryStopped(
      'run',
      judged,
      { shown: [{ where: 'clean-part-001.csv row 3', sourceFile: 'in.csv', sourceLine: '9', message: 'error: x' }], total: 1 },
      '`go`',
      'csv-job',
    );
    expect(e.message).toContain('clean-part-001.csv row 3 ← in.csv line 9: error: x');
    expect(e.hint).toContain('each row above, with its source line, is in run/server-rejects.csv');
  });

  it('without them (results not readable here): no "each row above" pointing to a file that is not there', () => {
    const e = canaryStopped('run', judged, { shown: [], total: 0 }, '`go`', 'csv-job');
    expect(e.hint).not.toContain('each row above');
    expect(e.hint).toContain('could not be read here');
  });
});
