import { BackfillError } from '../../errors.js';
import type { Manifest } from '../../model/manifest.js';
import { apiUrlGate, outputGates, refusalError, sinkGate } from '../../run/run-machine.js';

/**
 * May the API sink send from this run directory? The CSV path's output gates (a whole, unsampled
 * transform, conservation, reject rate), the same API URL and app as before, and one sink per run.
 * Pure; the clamp's staleness is asked before each POST (the run machine's `staleRefusal`).
 */
export function maySend(m: Manifest | undefined, dir: string, o: { apiUrl: string; appId: string }): BackfillError | undefined {
  const r = outputGates(m, dir) ?? sinkGate(m!, dir, 'api');
  if (r !== undefined) return refusalError(r);
  const man = m!;
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
