// `--kind users` (issue 19): a CSV/TSV header → where the user id, the record's time, the known
// fields and the attributes sit; and one row → a raw user record. Every column is used or listed
// as left out; a problem with the header stops the transform before any output (exit 2), with the
// flag that fixes it.
import { BackfillError } from '../errors.js';
import { attributeNameProblem, attributeRename } from '../events/user-names.js';
import { USER_FIELDS, type RawUserResult, type UserField, type UserValue } from '../model/user-record.js';
import { ambiguity, flagAndValue, safeSuggestion } from './header-names.js';
import { closestName, suggestColumn } from './mapping.js';
import { shown, shownList } from './shown.js';

/** What --map may name for kind users: the user id, the record's time (latest wins), the known fields. */
export const USER_TARGETS = ['userId', 'time', ...USER_FIELDS] as const;
export type UserTarget = (typeof USER_TARGETS)[number];

/** The prefix of Leanplum's own CSV form: a column `userAttributes.age` is the attribute `age`. */
const PREFIX = 'userAttributes.';

export interface UserMappingOptions {
  /** target → column (CSV) or dotted path (JSON) */
  map: Partial<Record<UserTarget, string>>;
  /** --attr <column>[=<name>]: when given, only these columns are attributes */
  attrs: readonly { column: string; name: string }[];
  /** --drop-attr <column>: not an attribute */
  dropAttrs: readonly string[];
  /** --rename-attr <column>=<name>: the attribute of that column gets this name (the others stay) */
  renames: readonly { column: string; name: string }[];
  /** JSON: --anonymous <path>, the user id of records without one (Segment's anonymousId) */
  anonymous?: string | undefined;
}

export interface UsersCsvLayout {
  width: number;
  userId: number;
  /** -1: no time column (records in input order) */
  time: number;
  fields: { index: number; field: UserField }[];
  attributes: { index: number; name: string }[];
  /** target → the column it came from, for summary.json */
  columns: Record<string, string>;
  /** columns not used */
  leftOut: string[];
}

function findColumn(header: readonly string[], name: string): number {
  const i = header.indexOf(name);
  if (i >= 0) return i;
  const lower = name.toLowerCase();
  return header.findIndex((h) => h.toLowerCase() === lower);
}

/** `--flag value` as it can be pasted into a shell. */
const flagWord = (flag: string, value: string): string => flagAndValue(flag, value, safeSuggestion(value) ?? `'${value.replaceAll("'", `'\\''`)}'`);

/**
 * Header + options → the layout. Throws BAD_HEADER / MISSING_COLUMN / CONFIG_INVALID with every
 * problem at once; a refused attribute name comes with the --rename-attr (or --drop-attr) to add.
 */
export function resolveUsersMapping(rawHeader: readonly string[], opts: UserMappingOptions): UsersCsvLayout {
  const header = rawHeader.map((h) => h.trim());
  const headerText = shownList(header);
  const problems: string[] = [];
  const fixes: string[] = [];
  let ambiguous = false;
  let missing = false;
  const columns: Record<string, string> = {};
  const used = new Set<number>();

  /** the column a flag names: its index, or -1 with the problem noted */
  const locate = (what: string, name: string, flag: string, required: boolean, target?: UserTarget): number => {
    const twice = ambiguity(header, name, `${flag}${name}`);
    if (twice !== undefined) {
      ambiguous = true;
      problems.push(`${what}: ${twice}`);
      return -1;
    }
    const i = findColumn(header, name);
    if (i < 0 && required) {
      missing = true;
      const near = safeSuggestion(target === 'userId' ? suggestColumn('userId', header, name) : closestName(name, header));
      problems.push(
        `${what}: column "${shown(name)}" not found. Header: ${headerText}.${near !== undefined ? ` Did you mean ${flag}${near}?` : ` Name it with ${flag}<column>.`}`,
      );
    }
    return i;
  };

  // the explicitly named columns first: they decide what the header's names would otherwise mean
  const named = new Set<number>();
  const attrIdx = opts.attrs.map((a) => {
    const i = locate('attr', a.column, '--attr ', true);
    if (i >= 0) named.add(i);
    return i;
  });
  const dropIdx = new Set<number>();
  for (const d of opts.dropAttrs) {
    const i = locate('drop-attr', d, '--drop-attr ', true);
    if (i >= 0) {
      named.add(i);
      dropIdx.add(i);
    }
  }
  const renameOf = new Map<number, string>();
  for (const r of opts.renames) {
    const i = locate('rename-attr', r.column, '--rename-attr ', true);
    if (i >= 0) {
      named.add(i);
      renameOf.set(i, r.name);
    }
  }

  const target = (t: UserTarget, required: boolean): number => {
    const given = opts.map[t];
    const i = locate(t, given ?? t, `--map ${t}=`, given !== undefined || required, t);
    // a column named like a field is that field, unless an --attr/--drop-attr/--rename-attr names it
    if (i < 0 || (given === undefined && named.has(i))) return -1;
    if (used.has(i)) {
      problems.push(
        `${t}: column "${shown(header[i]!)}" is already mapped to ${Object.entries(columns).find(([, c]) => c === header[i])?.[0]}; map each column once`,
      );
      return -1;
    }
    used.add(i);
    columns[t] = header[i]!;
    return i;
  };
  const userId = target('userId', true);
  // the record's time only when named: a column that happens to be called "time" is an attribute
  const time = opts.map.time === undefined ? -1 : target('time', false);
  const fields: { index: number; field: UserField }[] = [];
  for (const f of USER_FIELDS) {
    const i = target(f, false);
    if (i >= 0) fields.push({ index: i, field: f });
  }

  const attributes: { index: number; name: string }[] = [];
  const addAttribute = (i: number, name: string, byRename: boolean) => {
    const why = attributeNameProblem(name);
    if (why !== undefined) {
      const better = attributeRename(name);
      const fix = better !== undefined ? flagWord('--rename-attr', `${header[i]}=${better}`) : flagWord('--drop-attr', header[i]!);
      fixes.push(fix);
      problems.push(`attribute "${shown(name)}" (column "${shown(header[i]!)}") ${why}: Leanplum refuses it.${byRename ? '' : ` Rename it with ${fix}`}`);
      return;
    }
    attributes.push({ index: i, name });
  };
  if (opts.attrs.length > 0) {
    opts.attrs.forEach((a, k) => {
      const i = attrIdx[k]!;
      if (i < 0) return;
      if (used.has(i)) {
        problems.push(
          `attr: column "${shown(header[i]!)}" is mapped to ${Object.entries(columns).find(([, c]) => c === header[i])?.[0]}; a column is a field or an attribute, not both`,
        );
        return;
      }
      used.add(i);
      addAttribute(i, renameOf.get(i) ?? a.name, renameOf.has(i) || a.name !== a.column);
    });
  } else {
    header.forEach((h, i) => {
      if (used.has(i) || dropIdx.has(i)) return;
      used.add(i);
      addAttribute(i, renameOf.get(i) ?? (h.startsWith(PREFIX) ? h.slice(PREFIX.length) : h), renameOf.has(i));
    });
  }
  const mappedColumns = new Set(Object.values(columns));
  for (const i of dropIdx)
    if (mappedColumns.has(header[i]!)) {
      problems.push(`drop-attr: column "${shown(header[i]!)}" is mapped to a field, not an attribute; leave out --drop-attr ${header[i]}`);
    }
  for (const [i] of renameOf)
    if (!attributes.some((a) => a.index === i) && !problems.some((p) => p.includes(`(column "${shown(header[i]!)}")`))) {
      problems.push(
        `rename-attr: column "${shown(header[i]!)}" is no attribute of this run (a field, dropped, or not among --attr); leave out its --rename-attr`,
      );
    }
  const seen = new Map<string, number>();
  for (const a of attributes) {
    const other = seen.get(a.name);
    if (other !== undefined && header[other] === header[a.index]) {
      // two columns with the same name: no --rename-attr or --drop-attr can tell them apart
      ambiguous = true;
      problems.push(
        `attribute "${shown(a.name)}" comes from two columns both named "${shown(header[a.index]!)}" (columns ${other + 1} and ${a.index + 1}); no flag can tell them apart`,
      );
    } else if (other !== undefined)
      problems.push(
        `attribute "${shown(a.name)}" comes from two columns ("${shown(header[other]!)}" and "${shown(header[a.index]!)}"); rename one with --rename-attr <column>=<name>`,
      );
    else seen.set(a.name, a.index);
  }
  if (problems.length > 0) {
    throw new BackfillError(
      ambiguous ? 'BAD_HEADER' : missing ? 'MISSING_COLUMN' : 'BAD_HEADER',
      problems.join('\n'),
      ambiguous
        ? 'Rename the columns in the export so that each name is unique (e.g. level and level_2), then name the one you mean by its new name.'
        : fixes.length > 0
          ? `Add to the command: ${fixes.join(' ')} (a "." in an attribute name would nest it in Leanplum). See docs/kinds.md.`
          : 'See docs/kinds.md ("users") for --map, --attr, --drop-attr and --rename-attr.',
    );
  }
  attributes.sort((a, b) => a.index - b.index);
  return { width: header.length, userId, time, fields, attributes, columns, leftOut: header.filter((_, i) => !used.has(i)) };
}

/** One CSV row → a raw user record (cells are text: strings; an empty cell is an empty value). */
export function csvUserRecord(fields: readonly string[], l: UsersCsvLayout): RawUserResult {
  if (fields.length !== l.width) {
    if (fields.length === 1 && fields[0] === '') return { kind: 'dropped', reason: 'blank_line' };
    return { kind: 'rejected', reason: 'ragged_row', message: `expected ${l.width} fields as in the header, found ${fields.length}` };
  }
  const out: Partial<Record<UserField, UserValue>> = {};
  for (const f of l.fields) out[f.field] = fields[f.index]!;
  const attributes = Object.create(null) as Record<string, UserValue>;
  for (const a of l.attributes) attributes[a.name] = fields[a.index]!;
  const time = l.time >= 0 && fields[l.time]!.trim() !== '' ? fields[l.time]! : undefined;
  return { userId: fields[l.userId]!, time, fields: out, attributes };
}
