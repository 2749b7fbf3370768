import { DEFAULT_API_URL } from '../leanplum/contract.js';

// Commands that messages print as advice must run as printed (a review's `launch <dir>
// --adopt-job …` failed with "app-id: required"). They are built here, from what the run records.

/** A word for a POSIX shell: as is when it is plain, else single-quoted. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The Leanplum flags a printed command needs: the app, and the API URL when it is not the default. */
export function leanplumFlags(l: LeanplumTarget | undefined): string {
  const app = ` --app-id ${l?.appId === undefined ? '<your app id>' : shellWord(l.appId)}`;
  return l === undefined || l.apiUrl === DEFAULT_API_URL ? app : `${app} --api-url ${shellWord(l.apiUrl)}`;
}

/** `lp-backfill status <dir or gs:// prefix>`, with the run's API URL when it is not the default (status asks it about unfinished jobs and refuses another one). */
export function statusCommand(target: string, apiUrl: string | undefined): string {
  return `lp-backfill status ${shellWord(target)}${apiUrl === undefined || apiUrl === DEFAULT_API_URL ? '' : ` --api-url ${shellWord(apiUrl)}`}`;
}

/** Where a run's key goes: the app (when known) and the API URL. */
export interface LeanplumTarget {
  appId?: string | undefined;
  apiUrl: string;
}

/** `lp-backfill <command> <dir> <flags>`, ready to copy. */
export function adviceCommand(command: string, dir: string, l: LeanplumTarget | undefined, extra = ''): string {
  return `lp-backfill ${command} ${shellWord(dir)}${leanplumFlags(l)}${extra}`;
}
