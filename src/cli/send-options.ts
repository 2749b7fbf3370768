import type { Argv } from 'yargs';
import { DEFAULT_API_URL } from '../leanplum/contract.js';
import { KINDS } from '../model/kinds.js';

// The API sink's options (`send`, and `run --sink api`), apart from the command, so that building
// the command line does not load the clients.

export const withSend = <T>(y: Argv<T>) =>
  y
    .option('app-id', { type: 'string', describe: 'Leanplum app id' })
    .option('api-url', { type: 'string', defaultDescription: String(DEFAULT_API_URL), describe: 'Leanplum API endpoint (plain http only to loopback)' })
    .option('client-key-file', { type: 'string', describe: "File holding the app's Production key (else the LEANPLUM_PROD_KEY environment variable)" })
    .option('concurrency', { type: 'string', defaultDescription: '4', describe: 'JSON multi calls in flight at once (never two for one user)' })
    .option('max-rps', { type: 'string', describe: 'At most this many requests per second (retries included); default: no limit' })
    .option('resend-unknown', {
      type: 'string',
      describe: 'Send again, with identical actions, the batches whose outcome is unknown, as the SEND_UNKNOWN message names them (its state token)',
    })
    .option('skip-unknown', { type: 'string', describe: 'Record the batches whose outcome is unknown (the SEND_UNKNOWN token) as unknown and send the rest' })
    .option('kind', {
      choices: KINDS,
      describe: 'The kind the run directory was transformed as (events, users or totals); default: the recorded one. Another kind is refused (exit 2)',
    })
    .option('canary-max-failures', {
      type: 'string',
      defaultDescription: '0',
      describe:
        'The canary\'s batches (sent first, answered before any other) may come back with at most this many failed rows and "Past event detected" warnings; more stops the send (exit 5)',
    })
    .option('to', {
      type: 'string',
      describe: 'gs://<bucket>/<prefix> where the import ledger is kept (nothing is uploaded): a second send of the same inputs and options is refused',
    })
    .option('reimport', {
      type: 'boolean',
      default: false,
      describe:
        'Send again on purpose: the import ledger (beside --state-to) records this run as imported by another run (every event then reaches Leanplum twice)',
    })
    .group(
      ['app-id', 'api-url', 'client-key-file', 'concurrency', 'max-rps', 'resend-unknown', 'skip-unknown', 'kind', 'canary-max-failures', 'to', 'reimport'],
      'Leanplum API (--sink api):',
    );
/** `run`: the sink, and the API sink's pace (the app, the URL and the key file are the Leanplum options). */
export const withSink = <T>(y: Argv<T>) =>
  y
    .option('sink', {
      type: 'string',
      choices: ['csv-job', 'api'],
      defaultDescription: 'csv-job',
      describe:
        "Where the rows go: csv-job (a GCS bucket, the Development key, Leanplum's CSV import job) or api (Leanplum's JSON multi, the Production key from LEANPLUM_PROD_KEY or --client-key-file, no bucket: no --to)",
    })
    .option('concurrency', {
      type: 'string',
      defaultDescription: '4',
      describe: 'With --sink api: JSON multi calls in flight at once (never two for one user)',
    })
    .option('max-rps', { type: 'string', describe: 'With --sink api: at most this many requests per second (retries included); default: no limit' })
    .group(['sink', 'concurrency', 'max-rps'], 'Leanplum API (--sink api):');
