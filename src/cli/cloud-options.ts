import type { Argv } from 'yargs';
import { DEFAULT_API_URL } from '../leanplum/contract.js';

// The options of the cloud commands, apart from the commands themselves, so that building the
// command line does not load the GCS and Leanplum clients (a transform never needs them).

/** The defaults of the wait flags. yargs only shows them: a flag given without a value must not turn into one. */
export const WAIT_DEFAULTS = { timeout: '6h', pollInterval: '10s' } as const;

export const withTarget = <T>(y: Argv<T>) =>
  y
    .option('to', { type: 'string', describe: 'Destination as gs://<bucket>/<prefix>' })
    .option('bucket', { type: 'string', describe: 'Destination bucket (instead of --to)' })
    .option('prefix', { type: 'string', describe: 'Object name prefix inside the bucket (with --bucket)' })
    .option('chunk-size', { type: 'string', describe: 'Resumable upload chunk size (bytes or e.g. 8MB; a multiple of 256KiB); default: one streamed request' })
    .group(['to', 'bucket', 'prefix', 'chunk-size'], 'Cloud:');

export const withLeanplum = <T>(y: Argv<T>) =>
  y
    .option('app-id', { type: 'string', describe: 'Leanplum app id' })
    .option('api-url', { type: 'string', defaultDescription: String(DEFAULT_API_URL), describe: 'Leanplum API endpoint (plain http only to loopback)' })
    .option('client-key-file', { type: 'string', describe: "File holding the app's Development key (else the LEANPLUM_DEV_KEY environment variable)" })
    .group(['app-id', 'api-url', 'client-key-file'], 'Leanplum:');

export const withLaunch = <T>(y: Argv<T>) =>
  withLeanplum(y)
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Launch without the confirmation prompt (required off a terminal)' })
    .option('relaunch', {
      type: 'boolean',
      default: false,
      describe: 'Launch a new job for each part whose job ended FAILED (fix the cause first); finished parts never',
    })
    .option('relaunch-unknown', {
      type: 'string',
      describe:
        'Launch again the part whose launch, started at this time (as the LAUNCH_UNKNOWN message gives it), had no answer — only after checking in Leanplum that no job exists (repeatable)',
    })
    .option('adopt-job', {
      type: 'string',
      describe: '<part>=<jobId>: the job you found in Leanplum for a launch that had no answer; the run follows it instead of launching again (repeatable)',
    })
    .option('public-while-importing', {
      type: 'boolean',
      default: false,
      describe: 'Make the object publicly readable from just before the launch until the job ends',
    })
    .option('canary-max-failures', {
      type: 'string',
      defaultDescription: '0',
      describe:
        'The canary (part 1, launched alone first) may come back with at most this many failed rows and "Past event detected" warnings; more stops the run (exit 5) before anything else is launched',
    })
    .option('reimport', {
      type: 'boolean',
      default: false,
      describe:
        'Import again on purpose: the import ledger in the bucket records these inputs and options as imported by another run (every event then reaches Leanplum twice)',
    })
    .group(['yes', 'relaunch', 'relaunch-unknown', 'adopt-job', 'public-while-importing', 'canary-max-failures', 'reimport'], 'Leanplum:');

export const withWait = <T>(y: Argv<T>) =>
  withLeanplum(y)
    .option('timeout', {
      type: 'string',
      defaultDescription: WAIT_DEFAULTS.timeout,
      describe: 'Stop following the job after this long (exit 4; run wait again later)',
    })
    .option('poll-interval', { type: 'string', defaultDescription: WAIT_DEFAULTS.pollInterval, describe: 'Time between status checks' })
    .option('delete-after', { type: 'boolean', default: false, describe: 'Delete the uploaded object once its job has finished' })
    .group(['timeout', 'poll-interval', 'delete-after'], 'Leanplum:');

export const withState = <T>(y: Argv<T>) =>
  y
    .option('state-to', {
      type: 'string',
      describe: "Keep the run's manifest in GCS too (gs://<bucket>/<prefix>), compare-and-swap: for batch engines whose disk dies with the task",
    })
    .group(['state-to'], 'Cloud:');
