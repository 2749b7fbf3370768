/** Leanplum's limits on event and parameter names (LEANPLUM-API.md, "CSV for defaultAction=track"). */
export const NAME_MAX = 139;
export const USER_ID_MAX = 400;
export const MAX_PARAMS_PER_EVENT = 50;
export const MAX_EVENT_NAMES_PER_APP = 500;
export const MAX_PARAM_NAMES_PER_APP = 200;

const FORBIDDEN = /[,|"{\t\n\r]/;

/** Why a name is not acceptable to Leanplum, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > NAME_MAX) return `is ${name.length} characters long (at most ${NAME_MAX})`;
  if (name.startsWith('.') || name.startsWith('-')) return 'starts with "." or "-"';
  if (name.endsWith('/')) return 'ends with "/"';
  const bad = FORBIDDEN.exec(name);
  if (bad) return `contains ${JSON.stringify(bad[0])} (not allowed: , | " { tab newline)`;
  if (/^\d+(\.\d+)?$/.test(name)) return 'is purely numeric';
  return undefined;
}

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** ISO 4217 codes as this Node's ICU knows them. */
export function isCurrencyCode(code: string): boolean {
  return KNOWN_CURRENCIES.has(code);
}
