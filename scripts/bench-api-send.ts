// The measured process of the API sink bench: sends one transformed run directory to an API URL
// with the library's send stage (what `lp-backfill send` runs), and prints its summary as JSON on
// stdout's last line. Arguments: <dir> <api-url> <app-id> <concurrency>; the key in LEANPLUM_PROD_KEY.
import { MultiClient } from '../src/leanplum/multi-client.js';
import { withRunLock } from '../src/run/lock.js';
import { loadManifest } from '../src/run/manifest.js';
import { sendStage } from '../src/sinks/api/send-stage.js';

const [dir, apiUrl, appId, concurrency] = process.argv.slice(2) as [string, string, string, string];
const key = process.env['LEANPLUM_PROD_KEY'] ?? '';
const client = new MultiClient({ apiUrl, appId, clientKey: key });
const summary = await withRunLock(dir, 'send', async (lock) =>
  sendStage(
    lock,
    (await loadManifest(dir))!,
    client,
    { apiUrl, appId, concurrency: Number(concurrency), maxRps: undefined, now: () => new Date(), resendUnknown: [], skipUnknown: [], command: 'bench' },
    () => undefined,
  ),
);
process.stderr.write(`@@summary ${JSON.stringify(summary)}\n`);
