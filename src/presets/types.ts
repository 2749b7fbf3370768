import type { JsonObject, JsonValue } from '../input/json/json-text.js';

/** One vendor record read as a Leanplum event, before any rule: values as the source has them. */
export interface VendorEvent {
  userId?: JsonValue | undefined;
  event?: JsonValue | undefined;
  /** the time as text the time parser reads (ISO with Z, or an epoch number) */
  time?: string | undefined;
  /** decimal text */
  value?: string | undefined;
  currencyCode?: string | undefined;
  /** the vendor's unique event id, for dedupe */
  dedupeId?: JsonValue | undefined;
  /** the object whose leaves become parameters (nested objects flattened with .) */
  params: JsonObject | undefined;
  /** top-level keys of `params` that are the vendor's own, not parameters */
  skipParam?: ((key: string) => boolean) | undefined;
}

/** The records a preset turns away: not an event (identify, page, alias…) or a vendor's own synthetic event. */
export type NotAnEvent = 'not_track';

/**
 * A vendor export format: a named, pure mapping from one record to one event. `sources` names the
 * source fields of each Leanplum field, for the summary and the README.
 */
export interface Preset {
  name: string;
  sources: Readonly<Record<'userId' | 'event' | 'time' | 'value' | 'currencyCode' | 'dedupe' | 'params' | 'dropped', string>>;
  /** the output has value and currencyCode columns (the preset reads a value) */
  hasValue: boolean;
  /**
   * The path of the vendor's id for a visitor who is not signed in (GA4 `user_pseudo_id`, Segment
   * `anonymousId`, Amplitude `device_id`): suggested as --anonymous when most records have no user id.
   */
  anonymousId?: string | undefined;
  read(record: JsonObject): VendorEvent | NotAnEvent;
}
