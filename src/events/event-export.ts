// `--kind users` on an EVENT export (review of issue 19): every column becomes an attribute, so an
// `event_name` column would set each user's attribute to the name of their latest event without a
// word. The rule that spots such a column, for the report's warning and the printed summary.
import type { UsersStats } from '../model/user-record.js';

/** Names (lower case, letters and digits only) that event exports give the event's name. */
const EVENT_COLUMN = new Set(['event', 'eventname', 'eventtype', 'eventkey', 'eventaction', 'action', 'actionname', 'eventid']);
/** Names of an event's time that --kind events would read with the event column. */
const TIME_COLUMN = new Set(['time', 'timestamp', 'ts', 'tsms', 'eventtime', 'eventtimestamp', 'eventts', 'occurredat', 'datetime']);

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

export interface EventLikeColumn {
  /** the attribute (as named in the clean CSV's userAttributes.<name>) */
  name: string;
  /** why it looks like an event export's column, in words */
  why: string;
}

/**
 * The attributes that look like an event export's event column: named like one (event,
 * event_name, event_type, action…) and either taking several values for at least half of the users
 * with several records (at least 2 such users), or standing next to a time column (event + time is
 * what --kind events reads). A profile's attributes rarely change between its records; an event's
 * name does.
 */
export function eventLikeColumns(u: UsersStats): EventLikeColumn[] {
  const time = u.attributes.find((a) => TIME_COLUMN.has(norm(a.name)));
  const out: EventLikeColumn[] = [];
  for (const a of u.attributes) {
    if (!EVENT_COLUMN.has(norm(a.name))) continue;
    const varied = a.usersWithSeveralValues ?? 0;
    if (varied >= 2 && varied * 2 >= u.usersWithSeveralRecords)
      out.push({ name: a.name, why: `${varied} of ${u.usersWithSeveralRecords} users with several records have several values of it` });
    else if (time !== undefined) out.push({ name: a.name, why: `it stands next to a time column, ${time.name}, as in an event export` });
  }
  return out;
}

/** The time column a `--kind totals`/`--kind events` run of the same export would map, if one is plain. */
export function eventTimeColumn(u: UsersStats, mappedTime: string | undefined): string | undefined {
  if (mappedTime !== undefined) return mappedTime;
  return (
    u.attributes.find((a) => TIME_COLUMN.has(norm(a.name)))?.name ??
    u.attributes.find((a) => a.name.split(/[_\-\s]+/).some((w) => ['time', 'ts', 'timestamp', 'datetime'].includes(w.toLowerCase())))?.name
  );
}
