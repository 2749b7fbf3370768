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
