import { DEFAULT_API_URL } from '../leanplum/contract.js';

// Commands that messages print as advice must run as printed (a review's `launch <dir>
// --adopt-job …` failed with "app-id: required"). They are built here, from what the run records.

/** A word for a POSIX shell: as is when it is plain, else single-quoted. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The Leanplum flags a printed command needs: the app, and the API URL when it is not the default. */
export function leanplumFlags(l: { appId: string; apiUrl: string } | undefined): string {
  if (l === undefined) return ' --app-id <your app id>';
  return ` --app-id ${shellWord(l.appId)}${l.apiUrl === DEFAULT_API_URL ? '' : ` --api-url ${shellWord(l.apiUrl)}`}`;
}

/** `lp-backfill <command> <dir> <flags>`, ready to copy. */
export function adviceCommand(command: string, dir: string, l: { appId: string; apiUrl: string } | undefined, extra = ''): string {
  return `lp-backfill ${command} ${shellWord(dir)}${leanplumFlags(l)}${extra}`;
}
