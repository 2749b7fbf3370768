import { readFile } from 'node:fs/promises';
import { BackfillError } from '../../errors.js';
import { DEFAULT_API_URL } from '../../leanplum/contract.js';
import { MultiClient } from '../../leanplum/multi-client.js';
import { scrubError } from '../../leanplum/redact.js';
import { adviceCommand } from '../../run/advice.js';
import { NO_LEDGER } from '../../run/import-ledger.js';
import { withRunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { loadManifest } from '../../run/manifest.js';
import { judgeSend, sendStage, type ApiSendSummary } from '../../sinks/api/send-stage.js';
import type { SendFlags as PipelineSendFlags } from '../../pipeline/run.js';
import { canaryMaxFailures, sendPace } from '../command-options.js';
import { type Args, FlagReader } from '../flags.js';
import { renderShown } from '../render.js';
import { againCommand } from '../context.js';
import { parseGsUrl, parseStateObjectUrl, type Target } from '../../gcs/url.js';
import type { ObjectRef } from '../../gcs/storage.js';
import { parseShard } from '../../events/shard.js';
import type { Manifest } from '../../model/manifest.js';
import type { LedgerMirror } from '../../sinks/api/ledger-mirror.js';
import { actionOf, isKind, type Kind, KINDS, kindOfOptions } from '../../model/kinds.js';

/** The shard a transform was made for (its state lives in shard-<i>-of-<N>/). */
function shardOf(m: Manifest | undefined): { index: number; count: number } | undefined {
  const s = m?.transform?.options['shard'];
  if (typeof s !== 'string') return undefined;
  const p = parseShard(s);
  return typeof p === 'object' ? p : undefined;
}

/** Where the run's state lives: --state-to (which must be the one recorded, if any), or the one recorded. */
function sendStateRef(
  m: Manifest | undefined,
  stateTo: Target | undefined,
  stateObject: (bucket: string, prefix: string, shard: { index: number; count: number } | undefined) => ObjectRef,
): ObjectRef {
  const recorded = m?.stateUrl === undefined ? undefined : parseStateObjectUrl(m.stateUrl);
  if (stateTo === undefined) return recorded!;
  const asked = stateObject(stateTo.bucket, stateTo.prefix, shardOf(m));
  if (recorded !== undefined && (recorded.bucket !== asked.bucket || recorded.name !== asked.name))
    throw new BackfillError(
      'OPTIONS_CHANGED',
      `state-to: this run keeps its state in ${m!.stateUrl}, not gs://${asked.bucket}/${asked.name}`,
      'Repeat --state-to as the run was started, or leave it out (the recorded one is used).',
    );
  return asked;
}

// `lp-backfill send <dir>` (and the send step of `run … --sink api`): the API sink. Flags are read
// and checked here before the lock; the key is read from LEANPLUM_PROD_KEY or --client-key-file only.

/** The send command's flags: the pipeline's send flags (shared with `run --sink api`) and where the key goes. */
export interface SendFlags extends PipelineSendFlags {
  appId: string | undefined;
  apiUrl: string;
  keyFile: string | undefined;
}

export interface SendCommandOptions extends SendFlags {
  dir: string;
  /** --to: where the import ledger is kept (nothing is uploaded there) */
  to: Target | undefined;
  /** --state-to: the manifest and the send ledger also in GCS */
  stateTo: Target | undefined;
  /** --kind: must be the kind the run was transformed as (undefined: the recorded one) */
  kind: Kind | undefined;
  quiet: boolean;
  logFormat: 'text' | 'json';
}

/** The API sink's flags, every problem collected in the reader (exit 2 before anything is done). */
export function sendFlags(r: FlagReader): SendFlags {
  const appId = r.string('app-id')?.trim();
  if (appId === '') r.problem('app-id: expected your Leanplum app id, found an empty value');
  const { concurrency, maxRps } = sendPace(r);
  const resendUnknown = r.list('resend-unknown');
  const skipUnknown = r.list('skip-unknown');
  if (resendUnknown.length > 0 && skipUnknown.length > 0)
    r.problem('resend-unknown and skip-unknown: give one, not both (each says what to do with the unknown batches)');
  return {
    appId: appId || undefined,
    apiUrl: r.string('api-url') ?? DEFAULT_API_URL,
    keyFile: r.string('client-key-file'),
    concurrency,
    maxRps,
    resendUnknown,
    skipUnknown,
    canaryMaxFailures: canaryMaxFailures(r),
    reimport: r.bool('reimport'),
  };
}

export function sendCommandOptions(a: Args): SendCommandOptions {
  const r = new FlagReader(a);
  const logFormat = r.string('log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') r.problem(`log-format: expected text or json, found ${JSON.stringify(logFormat)}`);
  const f = sendFlags(r);
  const stateText = r.string('state-to');
  let stateTo: Target | undefined;
  try {
    stateTo = stateText === undefined ? undefined : parseGsUrl(stateText);
  } catch (e) {
    r.problem((e as Error).message.replace(/^to:/, 'state-to:'));
  }
  const toText = r.string('to');
  let to: Target | undefined;
  try {
    to = toText === undefined ? undefined : parseGsUrl(toText);
  } catch (e) {
    r.problem((e as Error).message);
  }
  const kindText = r.string('kind');
  if (kindText !== undefined && !isKind(kindText)) r.problem(`kind: expected one of ${KINDS.join(', ')}, found ${JSON.stringify(kindText)}`);
  r.check();
  return {
    ...f,
    stateTo,
    to,
    kind: isKind(kindText) ? kindText : undefined,
    dir: String(a['dir'] ?? ''),
    quiet: r.bool('quiet'),
    logFormat: logFormat === 'json' ? 'json' : 'text',
  };
}

/** `send --kind`: a run directory keeps its kind; sending it as another is refused before anything is sent. */
function enforceKind(dir: string, m: Manifest, asked: Kind | undefined, f: Pick<SendFlags, 'appId' | 'apiUrl'>): void {
  const recorded = kindOfOptions(m.transform?.options);
  if (asked === undefined || asked === recorded) return;
  throw new BackfillError(
    'OPTIONS_CHANGED',
    `${dir} was transformed as --kind ${recorded} (${actionOf(recorded)} actions), not --kind ${asked}: a run directory keeps its kind`,
    `Send it as it was made: \`${adviceCommand('send', dir, f, recorded === 'events' ? '' : ` --kind ${recorded}`)}\` — or transform the input with --kind ${asked} into a new --out directory and send that.`,
  );
}

/** The Production key: LEANPLUM_PROD_KEY or --client-key-file. LEANPLUM_DEV_KEY is never read here. */
export async function prodKey(keyFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (keyFile !== undefined) {
    let key: string;
    try {
      key = (await readFile(keyFile, 'utf8')).trim();
    } catch (e) {
      throw new BackfillError('CONFIG_INVALID', `client-key-file: cannot read "${keyFile}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (key === '') throw new BackfillError('CONFIG_INVALID', `client-key-file: "${keyFile}" is empty`);
    return key;
  }
  const key = env['LEANPLUM_PROD_KEY']?.trim();
  if (key) return key;
  throw new BackfillError(
    'CONFIG_INVALID',
    "no Leanplum key: the API sink (JSON multi) needs the app's Production key",
    'Set LEANPLUM_PROD_KEY, or give --client-key-file <file>. (LEANPLUM_DEV_KEY is for the CSV import job and is never used by --sink api.)',
  );
}

export function logger(o: { quiet: boolean; logFormat: 'text' | 'json' }): Log {
  return (event, fields, text) => {
    if (o.quiet) return;
    process.stderr.write(o.logFormat === 'json' ? `${JSON.stringify({ event, ...fields })}\n` : `${text}\n`);
  };
}

/** What a printed command needs to run again as is. */
export function sendAdvice(dir: string, f: Pick<SendFlags, 'appId' | 'apiUrl'>): string {
  return adviceCommand('send', dir, f);
}

/** Sends a transformed run directory; prints the summary; throws for exit codes 4 and 5. */
export async function sendDir(
  dir: string,
  f: SendFlags,
  o: { quiet: boolean; logFormat: 'text' | 'json'; stateTo?: Target | undefined; to?: Target | undefined; kind?: Kind | undefined },
  env: NodeJS.ProcessEnv,
): Promise<ApiSendSummary> {
  const log = logger(o);
  const recorded = (await loadManifest(dir))?.leanplum?.appId;
  const appId = f.appId ?? recorded;
  if (appId === undefined) throw new BackfillError('CONFIG_INVALID', 'app-id: required', 'Give --app-id <your Leanplum app id>.');
  const key = await prodKey(f.keyFile, env);
  try {
    const client = new MultiClient({
      apiUrl: f.apiUrl,
      appId,
      clientKey: key,
      onRetry: (attempt, delayMs, reason) =>
        log('retry', { attempt, delayMs, reason }, `retry      ${reason}; attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)}s`),
    });
    const summary = await withRunLock(dir, 'send', async (lock) => {
      // --state-to, or the state a run recorded: the manifest and the ledger also in GCS
      const here = await loadManifest(dir);
      let mirror: LedgerMirror | undefined;
      if (o.stateTo !== undefined || here?.stateUrl !== undefined) {
        // the GCS client is loaded only when the state lives there (it costs a startup of its own)
        const [{ makeStorage }, { attachSendState }, { stateObject }] = await Promise.all([
          import('../../gcs/storage.js'),
          import('../../sinks/api/send-state.js'),
          import('../../run/remote-state.js'),
        ]);
        const ref = sendStateRef(here, o.stateTo, stateObject);
        const storage = makeStorage({ apiEndpoint: env['STORAGE_EMULATOR_HOST'] || undefined, projectId: env['GOOGLE_CLOUD_PROJECT'] || undefined });
        mirror = await attachSendState(lock, storage, ref, log);
      }
      const m = await loadManifest(dir);
      if (m === undefined) {
        throw new BackfillError(
          'STAGE_REFUSED',
          `${dir} holds no run (manifest.json missing)`,
          'Run `lp-backfill transform <input> --out <dir>` first (or `run … --sink api`).',
        );
      }
      enforceKind(dir, m, o.kind, { appId, apiUrl: f.apiUrl });
      // the import ledger (issue 20), recorded before the first call: under --to, else --state-to, else where the run recorded it
      if (o.to === undefined && o.stateTo === undefined && m.importLedger === undefined && m.stateUrl === undefined) log('ledger', {}, NO_LEDGER);
      else {
        const [{ makeStorage }, { recordSend }] = await Promise.all([import('../../gcs/storage.js'), import('../../pipeline/run.js')]);
        const storage = makeStorage({ apiEndpoint: env['STORAGE_EMULATOR_HOST'] || undefined, projectId: env['GOOGLE_CLOUD_PROJECT'] || undefined });
        await recordSend(
          lock,
          m,
          { to: o.to, stateTo: o.stateTo, reimport: f.reimport, app: { appId, apiUrl: f.apiUrl } },
          { storage: () => storage, log, now: () => new Date(), sendCommand: sendAdvice, again: againCommand },
        );
      }
      return sendStage(
        lock,
        m,
        client,
        {
          apiUrl: f.apiUrl,
          appId,
          concurrency: f.concurrency,
          maxRps: f.maxRps,
          now: () => new Date(),
          resendUnknown: f.resendUnknown,
          skipUnknown: f.skipUnknown,
          canaryMaxFailures: f.canaryMaxFailures,
          command: sendAdvice(dir, { appId, apiUrl: f.apiUrl }),
          mirror,
        },
        log,
      );
    });
    renderShown({ stage: 'sent', dir, summary }, { repeats: [] }, (text) => process.stdout.write(text), log);
    const verdict = judgeSend(summary);
    if (verdict !== undefined) throw verdict;
    return summary;
  } catch (e) {
    scrubError(e, key);
    throw e;
  }
}

export async function sendCommand(o: SendCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await sendDir(o.dir, o, o, env);
}
