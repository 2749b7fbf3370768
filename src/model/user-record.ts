// The record every `--kind users` input produces (CSV/TSV, NDJSON, JSON arrays, Parquet, and the
// vendor presets for people exports), and the result of turning one input record into it. Types
// and constant lists only: the rules that fill it live in transform/users/ (issue 19).

/**
 * One attribute value as Leanplum's `setUserAttributes` takes it (LEANPLUM-API.md): a string, a
 * number, a boolean, a list, or null (an empty value: left out unless --clear-empty).
 * - Objects never reach this type: they are flattened with `_` first (`address.city` would nest in
 *   Leanplum's CSV, so `{"address":{"city":"Oslo"}}` becomes the attribute `address_city`).
 * - A number is a JavaScript number only when that number's text is exactly the number read
 *   (`String(n)` gives back the digits); a number with more digits than a double holds (a 19-digit
 *   id, INT64 beyond 2^53, `0.1000000000000000055`) is kept as its exact decimal text, a **string**:
 *   a double would lose digits, here and, as far as we know, in Leanplum (U).
 * - A CSV cell is text: it stays a string, written as read (its column may still be typed number or
 *   boolean when every cell reads so: events/user-cells.ts textType).
 */
export type UserValue = string | number | boolean | null | UserValue[];

/** The fields of `setUserAttributes` other than the attributes, in the clean CSV's column order. */
export const USER_FIELDS = ['created', 'lastActive', 'locale', 'country', 'region', 'city', 'timezone'] as const;
export type UserField = (typeof USER_FIELDS)[number];

/** The fields that are times: epoch seconds in the record (parsed by the events' time rule, --tz for times without an offset). */
export const USER_TIME_FIELDS: readonly UserField[] = ['created', 'lastActive'];

export interface UserRecord {
  userId: string;
  /**
   * When this record's values were true, epoch milliseconds, for "the latest value wins"; undefined
   * when the input has no such time (a CSV without --map time=, a Mixpanel profile). Records
   * without a time are older than every record with one, and among themselves in input order.
   */
  time: number | undefined;
  /** created/lastActive: epoch seconds (numbers); the others as read */
  fields: Partial<Record<UserField, UserValue>>;
  /** attribute name (Leanplum's name rules, no `.`) → value */
  attributes: Record<string, UserValue>;
  /**
   * Attribute name → when that value alone was true, epoch milliseconds, where the input times each
   * value (GA4's `user_properties[].value.set_timestamp_micros`): for that attribute it takes the
   * place of `time` in "the latest value wins". Absent for most inputs.
   */
  attributeTimes?: Record<string, number> | undefined;
  /**
   * The vendor's own order among one user's records, for inputs without a time (PostHog persons:
   * `person_version`, then `person_distinct_id_version`): compared element by element after `time`
   * and before input order; the higher one wins. Absent for most inputs.
   */
  version?: readonly number[] | undefined;
}

/** Why a whole input record is refused (it goes to rejects.csv, counted in summary.json). */
export const USER_REJECT_REASONS = ['ragged_row', 'missing_user_id', 'bad_user_id', 'bad_time', 'bad_json', 'record_too_large'] as const;
export type UserRejectReason = (typeof USER_REJECT_REASONS)[number];

/**
 * Why a whole input record is left out on purpose (counted, not in rejects.csv):
 * - `nothing_to_set`: no field and no attribute with a value (without --clear-empty an empty value
 *   sets nothing, so the record would only create the user);
 * - `not_profile`: a record of the export that is no people record (a Segment `track` call);
 * - `deleted`: the export marks the person deleted (PostHog `is_deleted`).
 */
export const USER_DROP_REASONS = ['blank_line', 'other_shard', 'nothing_to_set', 'not_profile', 'deleted'] as const;
export type UserDropReason = (typeof USER_DROP_REASONS)[number];

/**
 * Why one value is left out of a user's row while the rest of the row is written (counted per
 * attribute in summary.json and shown in the report; never silently):
 * - `bad_name`: the attribute name breaks Leanplum's name rules (a JSON key found in a record);
 * - `ambiguous_list_item`: a list item that the bracket form `[a, b, c]` cannot carry so that it
 *   reads back as the same item: it holds `,`, `[` or `]`, starts or ends with white space, is
 *   empty, or is null (Leanplum's own samples write `[Jimmy, Sara, Amy]` and `[a,12345]`, so a
 *   reader that splits on `,` and trims is assumed, U);
 * - `nested_list`: a list inside a list, or an object inside a list (no bracket form for either);
 * - `duplicate_name`: the record already has a value under that name (a flattened object's
 *   `address_city` next to a key `address_city`: the first in the record's key order stays);
 * - `unsupported_value`: raw bytes (a Parquet BYTE_ARRAY without a text type), no attribute type;
 *   or a list where a field (locale, country…) takes one value.
 */
export const USER_VALUE_PROBLEMS = ['bad_name', 'duplicate_name', 'ambiguous_list_item', 'nested_list', 'unsupported_value'] as const;
export type UserValueProblem = (typeof USER_VALUE_PROBLEMS)[number];

/** One input record turned into a user record, or refused, or left out, each with its reason. */
export type UserRecordResult =
  /** naive: a time of the record was a date-time without an offset, read in --tz (the report warns, as for events) */
  | { kind: 'kept'; record: UserRecord; naive?: boolean }
  | { kind: 'rejected'; reason: UserRejectReason; message: string }
  | { kind: 'dropped'; reason: UserDropReason };

/**
 * The type of a clean CSV column as summary.json records it: the API sink sends the column's cells
 * as values of this type (a list's items as the item type). A column whose values have several
 * types is `string` (or `string[]`): every cell is sent as the text written, and the conflict is
 * reported.
 */
export const USER_COLUMN_TYPES = ['string', 'number', 'boolean', 'string[]', 'number[]', 'boolean[]'] as const;
export type UserColumnType = (typeof USER_COLUMN_TYPES)[number];

/**
 * A record as a projection reads it from one input record (a CSV row, a JSON object, a vendor
 * preset's people record), before the rules (events/user-rules.ts settleUserRecord) check the user
 * id, read the times, check names and values, and decide kept / rejected / dropped.
 */
export interface RawUserRecord {
  /** the user id as found: a string, or an integer (JSON); anything else is refused as bad_user_id */
  userId: UserValue | undefined;
  /** the record's own time as found (any form the time parser reads), undefined when it has none */
  time: UserValue | undefined;
  /** created/lastActive as found (any time form), the other fields as strings */
  fields: Partial<Record<UserField, UserValue>>;
  attributes: Record<string, UserValue>;
  /** values the projection could not carry at all (a list of objects, raw bytes), by attribute name */
  refused?: { name: string; problem: UserValueProblem; value: UserValue }[];
  /** as UserRecord.attributeTimes: a number is epoch milliseconds; a string is read by the time parser (ISO text, epoch digits) */
  attributeTimes?: Record<string, UserValue> | undefined;
  /** as UserRecord.version, passed through */
  version?: readonly number[] | undefined;
}

/** What a projection makes of one input record: a raw user record, or a decision with its reason. */
export type RawUserResult = RawUserRecord | { kind: 'rejected'; reason: UserRejectReason; message: string } | { kind: 'dropped'; reason: UserDropReason };

/**
 * What a JSON projection makes of one input record: as RawUserResult, or several users from one
 * record (a PostHog person from the API: one user per distinct id, all with the person's values).
 */
export type ProjectedUsers = RawUserResult | readonly RawUserRecord[];

/** One attribute column of a users run, for summary.json `users` and the report. */
export interface UserAttributeStats {
  /** the attribute name (the column is `userAttributes.<name>`) */
  name: string;
  /** the type decided for the column (UserColumnType; lists go to the clean CSV's `columns` as `list`) */
  type: UserColumnType;
  /** rows (users) with a value in this column, and that share of all rows */
  filled: number;
  fillRate: number;
  /** --clear-empty: users for whom it is cleared */
  cleared: number;
  /** values of each type read from kept records (before the merge): several types = a conflict */
  types: Partial<Record<UserColumnType, number>>;
  conflict: boolean;
  /** up to 3 distinct cells as written, cut at 60 characters */
  samples: string[];
  /**
   * users whose records gave this attribute more than one value (the latest won): a profile's
   * attributes rarely change between its records, an event export's `event_name` does (absent in
   * older summaries)
   */
  usersWithSeveralValues?: number;
  /**
   * cells of a `string` column written as `[…]`: the API sink sends the text, Leanplum's CSV
   * importer may read a list (not documented); counted and warned, never changed (absent in older summaries)
   */
  listLikeText?: number;
}

/** What a users run wrote, for summary.json `users` and the report's "users" section. */
export interface UsersStats {
  /** rows written (one per user) and the kept records merged into them */
  users: number;
  records: number;
  /** users with more than one record */
  usersWithSeveralRecords: number;
  clearEmpty: boolean;
  /** each field present: rows with a value */
  fields: { name: UserField; filled: number; fillRate: number }[];
  attributes: UserAttributeStats[];
  /** values left out of records (the rest of the record kept), by attribute and reason, with the fix where there is one */
  valuesLeftOut: { name: string; problem: UserValueProblem; values: number; message: string; fix: string | null; sample: string }[];
}
