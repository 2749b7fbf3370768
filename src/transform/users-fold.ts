// `--kind users` (issue 19) at the sorted output: the records of one user, sorted by (userId, time,
// position), merged into ONE row (events/user-merge.ts), written as cells (events/user-cells.ts).
// Across users it keeps only what is bounded by the columns: names, types, fill counts, samples.
import { BackfillError } from '../errors.js';
import { cellText, ColumnTypes, isEmptyValue, valueProblemMessage } from '../events/user-cells.js';
import { UserFold as Merge } from '../events/user-merge.js';
import type { LeftOutValue } from '../events/user-rules.js';
import { attributeRename } from '../events/user-names.js';
import type { ColumnSpec, ColumnType } from '../model/kinds.js';
import {
  USER_FIELDS,
  USER_TIME_FIELDS,
  type UserAttributeStats,
  type UserColumnType,
  type UserField,
  type UserRecord,
  type UsersStats,
  type UserValue,
  type UserValueProblem,
} from '../model/user-record.js';
import { flagAndValue } from '../input/header-names.js';
import { csvField } from './csv-line.js';
import type { UserFold } from './user-fold.js';

/** Distinct attribute names a run may carry: a bound on the memory of the columns (not a Leanplum limit). */
export const MAX_ATTRIBUTES = 2000;
/**
 * --clear-empty: the column naming, per user, the attributes to clear (a list; their own cells are
 * empty). Only the API sink reads it (it sends them as null); the CSV job refuses a run that has it.
 */
export const CLEAR_COLUMN = 'clearUserAttributes';
const PREFIX = 'userAttributes.';
const SAMPLES = 3;
const SAMPLE_CHARS = 60;
const MAX_LEFT_OUT_NAMES = 200;

/**
 * The sort payload of one record, compact (a million records sit in the sort's memory): [position,
 * [field index, value, …], [attribute number, value, …], attributeTimes?, version?]. Attribute
 * numbers are given in the order names are first seen (see()), fields by USER_FIELDS order.
 */
type Payload = [number, (number | UserValue)[], (number | UserValue)[], Record<string, number>?, (readonly number[] | null)?];

const clean = (type: UserColumnType): ColumnType => type;

export class UsersFold implements UserFold {
  private readonly merge: Merge;
  private readonly fieldsSeen = new Set<UserField>();
  private readonly types = new ColumnTypes();
  /** attribute name → its number in payloads (first seen first) */
  private readonly names = new Map<string, number>();
  private nameList: string[] = [];
  private cols: ColumnSpec[] | undefined;
  /** attribute columns in header order, and per column its counts */
  private attrCols: { name: string; filled: number; cleared: number; samples: string[]; text: boolean; listLike: number }[] = [];
  private readonly fieldFilled = new Map<UserField, number>();
  private readonly leftOut = new Map<string, { name: string; problem: UserValueProblem; values: number; sample: string; message: string }>();
  private leftOutOther = 0;
  /** the user being merged: per attribute number its first value (JSON text for a list), and those that took another */
  private readonly userFirst = new Map<number, string | number | boolean>();
  private readonly userVaried = new Set<number>();
  /** per attribute number: users whose records gave it more than one value (an event export's `event_name` does) */
  private varied: number[] = [];
  private users = 0;
  private several = 0;
  private records = 0;
  folded = 0;

  /**
   * `textCells`: the input is CSV/TSV, whose cells are text; a column whose every value reads as a
   * number (or a boolean) by textType is typed so (cells unchanged). JSON and Parquet values keep
   * their own type.
   */
  constructor(
    private readonly clearEmpty: boolean,
    private readonly textCells = false,
  ) {
    this.merge = new Merge(clearEmpty);
  }

  /** During the read: a kept record's names and types (the header and column types are fixed before writing). */
  see(record: UserRecord): void {
    for (const f in record.fields) this.fieldsSeen.add(f as UserField);
    for (const name in record.attributes) {
      const v = record.attributes[name]!;
      if (!this.names.has(name)) {
        if (this.names.size >= MAX_ATTRIBUTES)
          throw new BackfillError(
            'CONFIG_INVALID',
            `more than ${MAX_ATTRIBUTES} distinct attribute names (the ${MAX_ATTRIBUTES + 1}th is "${name.slice(0, 60)}"): a users run carries at most ${MAX_ATTRIBUTES}`,
            'Name the attributes to carry with --attr <column or path>[=<name>], or leave some out with --drop-attr. Nothing was written.',
          );
        this.names.set(name, this.names.size);
        this.nameList.push(name);
      }
      if (!isEmptyValue(v)) this.types.add(PREFIX + name, v, this.textCells);
    }
  }

  /** During the read: a value left out of a record (counted by attribute and reason). */
  noteLeftOut(v: LeftOutValue): void {
    const key = `${v.problem}\u0000${v.name}`;
    const cur = this.leftOut.get(key);
    if (cur !== undefined) cur.values++;
    else if (this.leftOut.size >= MAX_LEFT_OUT_NAMES) this.leftOutOther++;
    else
      this.leftOut.set(key, {
        name: v.name,
        problem: v.problem,
        values: 1,
        sample: JSON.stringify(v.value).slice(0, SAMPLE_CHARS),
        message: valueProblemMessage(v.problem, v.value),
      });
  }

  /** The sort payload of a kept record (the fold reads it back at the merge). */
  payload(record: UserRecord, position: number): string {
    const f: (number | UserValue)[] = [];
    for (const k in record.fields) f.push(USER_FIELDS.indexOf(k as UserField), record.fields[k as UserField]!);
    const a: (number | UserValue)[] = [];
    for (const k in record.attributes) a.push(this.names.get(k)!, record.attributes[k]!);
    const p: Payload = [position, f, a];
    if (record.attributeTimes !== undefined || record.version !== undefined) p.push(record.attributeTimes ?? {}, record.version);
    return JSON.stringify(p);
  }

  columns(): ColumnSpec[] {
    const decided = this.types.decide(this.nameList.map((n) => PREFIX + n));
    const fields = USER_FIELDS.filter((f) => this.fieldsSeen.has(f));
    const names = [...this.nameList].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.attrCols = names.map((name) => ({ name, filled: 0, cleared: 0, samples: [], text: decided[PREFIX + name]!.type === 'string', listLike: 0 }));
    this.cols = [
      { name: 'userId', type: 'string' },
      ...fields.map((f): ColumnSpec => ({ name: f, type: USER_TIME_FIELDS.includes(f) ? 'epoch' : 'string' })),
      ...names.map((n): ColumnSpec => ({ name: PREFIX + n, type: clean(decided[PREFIX + n]!.type) })),
    ];
    if (this.clearEmpty) this.cols.push({ name: CLEAR_COLUMN, type: 'list' });
    for (const f of fields) this.fieldFilled.set(f, 0);
    return this.cols;
  }

  add(userId: string, time: number, payload: string): void {
    const [position, f, a, attributeTimes, version] = JSON.parse(payload) as Payload;
    const fields: UserRecord['fields'] = {};
    for (let i = 0; i < f.length; i += 2) fields[USER_FIELDS[f[i] as number]!] = f[i + 1] as UserValue;
    const attributes = Object.create(null) as Record<string, UserValue>;
    for (let i = 0; i < a.length; i += 2) {
      const k = a[i] as number;
      const v = a[i + 1] as UserValue;
      attributes[this.nameList[k]!] = v;
      if (isEmptyValue(v)) continue;
      const seen = typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
      const first = this.userFirst.get(k);
      if (first === undefined) this.userFirst.set(k, seen);
      else if (first !== seen) this.userVaried.add(k);
    }
    const record: UserRecord = { userId, time: Number.isFinite(time) ? time : undefined, fields, attributes };
    if (attributeTimes !== undefined) record.attributeTimes = attributeTimes;
    if (version !== undefined && version !== null) record.version = version;
    this.merge.add(record, position);
  }

  end(userId: string): string {
    const m = this.merge.finish();
    this.users++;
    this.records += m.records;
    this.folded += m.records;
    if (m.records > 1) this.several++;
    for (const k of this.userVaried) this.varied[k] = (this.varied[k] ?? 0) + 1;
    this.userVaried.clear();
    this.userFirst.clear();
    let line = csvField(userId);
    for (const [f, n] of this.fieldFilled) {
      const v = m.fields[f];
      const cell = v === undefined ? '' : cellText(v);
      if (cell !== '') this.fieldFilled.set(f, n + 1);
      line += `,${csvField(cell)}`;
    }
    const cleared: string[] = [];
    for (const c of this.attrCols) {
      const v = m.attributes[c.name];
      let cell = '';
      if (v === null) {
        c.cleared++;
        cleared.push(c.name);
      } else if (v !== undefined) {
        cell = cellText(v);
        if (cell !== '') {
          c.filled++;
          // text the CSV importer may read as a list (U), where the API sink sends the text
          if (c.text && cell.startsWith('[') && cell.endsWith(']')) c.listLike++;
          if (c.samples.length < SAMPLES) {
            const s = cell.length > SAMPLE_CHARS ? `${cell.slice(0, SAMPLE_CHARS)}…` : cell;
            if (!c.samples.includes(s)) c.samples.push(s);
          }
        }
      }
      line += `,${csvField(cell)}`;
    }
    if (this.clearEmpty) line += `,${csvField(cleared.length === 0 ? '' : `[${cleared.join(', ')}]`)}`;
    return `${line}\n`;
  }

  /** For summary.json `users` and the report. */
  get stats(): UsersStats {
    const rate = (n: number) => (this.users === 0 ? 0 : Math.round((n / this.users) * 10_000) / 10_000);
    const decided = this.types.decide(this.attrCols.map((c) => PREFIX + c.name));
    const counts = (name: string) => this.types.counts(PREFIX + name);
    const attributes: UserAttributeStats[] = this.attrCols.map((c) => {
      const d = decided[PREFIX + c.name]!;
      return {
        name: c.name,
        type: d.type,
        filled: c.filled,
        fillRate: rate(c.filled),
        cleared: c.cleared,
        types: counts(c.name),
        conflict: d.conflict !== undefined,
        samples: c.samples,
        listLikeText: c.listLike,
        usersWithSeveralValues: this.varied[this.names.get(c.name)!] ?? 0,
      };
    });
    const valuesLeftOut = [...this.leftOut.values()].map((l) => {
      const better = l.problem === 'bad_name' ? attributeRename(l.name) : undefined;
      return {
        ...l,
        fix: better === undefined ? null : flagAndValue('--rename-attr', `${l.name}=${better}`, `'${`${l.name}=${better}`.replaceAll("'", `'\\''`)}'`),
      };
    });
    if (this.leftOutOther > 0)
      valuesLeftOut.push({ name: '(other names)', problem: 'bad_name', values: this.leftOutOther, sample: '', message: 'more names than listed', fix: null });
    return {
      users: this.users,
      records: this.records,
      usersWithSeveralRecords: this.several,
      clearEmpty: this.clearEmpty,
      fields: [...this.fieldFilled].map(([name, filled]) => ({ name, filled, fillRate: rate(filled) })),
      attributes,
      valuesLeftOut,
    };
  }
}
