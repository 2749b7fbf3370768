/** "****" + the last 4 characters: enough to tell keys apart, useless to anyone else. */
export function maskSecret(secret: string): string {
  return `****${secret.slice(-4)}`;
}

/** Removes every occurrence of the secret (and its URL-encoded form) from a text. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  let out = text.split(secret).join(maskSecret(secret));
  const enc = encodeURIComponent(secret);
  if (enc !== secret) out = out.split(enc).join(maskSecret(secret));
  return out;
}

/**
 * Removes the secret from an error and everything hanging off it: message, stack, hint, any other
 * string field (a response body), its `cause` chain and AggregateError members. In place, so the
 * same object can be thrown on; cycles are followed once.
 */
export function scrubError(e: unknown, secret: string | undefined, seen: Set<object> = new Set()): void {
  if (!secret || typeof e !== 'object' || e === null || seen.has(e)) return;
  seen.add(e);
  const o = e as Record<string, unknown>;
  for (const k of new Set([...Object.getOwnPropertyNames(o), 'message', 'stack'])) {
    const v = o[k];
    if (typeof v === 'string') {
      const clean = redact(v, secret);
      if (clean !== v) {
        try {
          o[k] = clean;
        } catch {
          // a read-only property: nothing more can be done with it here
        }
      }
    } else if (k === 'cause' || k === 'errors' || (typeof v === 'object' && v !== null && !Array.isArray(v) && v instanceof Error)) {
      if (Array.isArray(v)) for (const x of v) scrubError(x, secret, seen);
      else scrubError(v, secret, seen);
    }
  }
}
