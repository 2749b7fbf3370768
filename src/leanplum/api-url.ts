import { isIPv4, isIPv6 } from 'node:net';
import { BackfillError } from '../errors.js';

// Where the key may go, checked by the options layer before any work (light to load: no client).

/**
 * Loopback proper: an IPv4 literal in 127.0.0.0/8, the IPv6 literal ::1, or exactly "localhost".
 * Parsed as addresses, never by prefix: "127.evil.example" is a host name anyone can register.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.split('.')[0] === '127';
  if (isIPv6(h)) return new URL(`http://[${h}]/`).hostname === '[::1]';
  return false;
}

/** Plain http would send the Development key in clear text: only loopback (simulators) may use it. */
export function checkApiUrl(apiUrl: string): URL {
  let u: URL;
  try {
    u = new URL(apiUrl);
  } catch {
    throw new BackfillError('CONFIG_INVALID', `api-url: "${apiUrl}" is not a URL`, 'Use https://api.leanplum.com/api (the default).');
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  throw new BackfillError(
    'CONFIG_INVALID',
    `api-url: refusing ${u.protocol}//${u.host}: the key would travel unencrypted`,
    'Use https; plain http is allowed only to a simulator on loopback.',
  );
}
