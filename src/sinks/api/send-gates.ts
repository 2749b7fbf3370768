import { BackfillError } from '../../errors.js';
import type { Manifest } from '../../model/manifest.js';
import { apiUrlGate, outputGates, refusalError } from '../../run/run-machine.js';

/**
 * May the API sink send from this run directory? The CSV path's output gates (a whole, unsampled
 * transform, conservation, reject rate), the same API URL and app as before, and one sink per run.
 * Pure; the clamp's staleness is asked before each POST (the run machine's `staleRefusal`).
 */
export function maySend(m: Manifest | undefined, dir: string, o: { apiUrl: string; appId: string }): BackfillError | undefined {
  const r = outputGates(m, dir);
  if (r !== undefined) return refusalError(r);
  const man = m!;
  if (man.sink === 'csv-job' || man.target !== undefined || man.parts.some((p) => p.upload !== undefined || p.launch !== undefined)) {
    return new BackfillError(
      'OPTIONS_CHANGED',
      `${dir} is a CSV-job run (uploaded to GCS or launched): sending it through the API as well would import its rows twice`,
      'Finish it with `lp-backfill wait`/`launch` (the CSV job), or transform into a new --out directory for --sink api.',
    );
  }
  const url = apiUrlGate(man, o.apiUrl);
  if (url !== undefined) return refusalError(url);
  if (man.leanplum !== undefined && man.leanplum.appId !== o.appId) {
    return new BackfillError(
      'STAGE_REFUSED',
      `this run was sent to app ${man.leanplum.appId}, not ${o.appId}`,
      `Repeat --app-id ${man.leanplum.appId}, or transform into a new run directory for the other app.`,
    );
  }
  return undefined;
}
