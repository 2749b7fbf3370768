import type { Argv } from 'yargs';
import { DEFAULT_API_URL } from '../leanplum/contract.js';

// The API sink's options (`send`, and `run --sink api`), apart from the command, so that building
// the command line does not load the clients.

export const withSend = <T>(y: Argv<T>) =>
  y
    .option('app-id', { type: 'string', describe: 'Leanplum app id' })
    .option('api-url', { type: 'string', default: DEFAULT_API_URL, describe: 'Leanplum API endpoint (plain http only to loopback)' })
    .option('client-key-file', { type: 'string', describe: "File holding the app's Production key (else the LEANPLUM_PROD_KEY environment variable)" })
    .option('concurrency', { type: 'string', default: '4', describe: 'JSON multi calls in flight at once (never two for one user)' })
    .option('max-rps', { type: 'string', describe: 'At most this many requests per second (retries included); default: no limit' })
    .option('resend-unknown', {
      type: 'string',
      describe: 'Send again, with identical actions, the batches whose outcome is unknown, as the SEND_UNKNOWN message names them (its state token)',
    })
    .option('skip-unknown', { type: 'string', describe: 'Record the batches whose outcome is unknown (the SEND_UNKNOWN token) as unknown and send the rest' })
    .group(['app-id', 'api-url', 'client-key-file', 'concurrency', 'max-rps', 'resend-unknown', 'skip-unknown'], 'Leanplum API (--sink api):');
