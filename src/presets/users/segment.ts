import type { JsonObject } from '../../input/json/json-text.js';
import { objectAt } from '../../input/json/paths.js';
import { firstPresent, utcIfNaive } from '../fields.js';
import type { UserPreset, UserPresetSkip, VendorUser } from './types.js';

/** Segment's reserved trait for when the user's account was created, in both spellings its spec accepts. */
export const SEGMENT_CREATED_TRAITS = ['createdAt', 'created_at'] as const;

/**
 * Leanplum fields a Segment library fills in `context` on every call (`locale` "en-US", `timezone`
 * IANA "Europe/Amsterdam"). A trait of the same name is the customer's own value: it wins for the
 * field (and stays an attribute too, as every trait does).
 */
export const SEGMENT_CONTEXT_FIELDS = ['locale', 'timezone'] as const;

/**
 * Segment raw archive (S3/GCS: gzipped NDJSON, every call type mixed): the `identify` calls. Each
 * call carries some traits (partial), so one user has many records, merged per trait by
 * `timestamp`.
 */
export const segmentIdentify: UserPreset = {
  name: 'segment',
  anonymousId: 'anonymousId',
  sources: {
    userId: 'userId (a call with only anonymousId: --anonymous anonymousId, else rejected as missing_user_id)',
    time: 'timestamp, else originalTimestamp, else receivedAt (ISO-8601; no offset: UTC)',
    fields:
      "created ← traits.createdAt, else traits.created_at (ISO-8601 or an epoch; the customer's own value, so no offset: --tz); locale ← traits.locale, else context.locale; timezone ← traits.timezone, else context.timezone",
    attributes: 'traits, except createdAt/created_at; objects (address, company) flattened with _ (address_city)',
    dropped: 'every call whose type is not "identify": track, page, screen, group, alias (not_profile)',
    merge: 'per trait, the call with the latest timestamp wins (equal timestamps: the later line)',
  },
  read(r: JsonObject): VendorUser | UserPresetSkip {
    if (r['type'] !== 'identify') return { kind: 'dropped', reason: 'not_profile' };
    const traits = objectAt(r, 'traits') ?? {};
    const attributes: JsonObject = {};
    const fields: VendorUser['fields'] = {};
    for (const key in traits) {
      if ((SEGMENT_CREATED_TRAITS as readonly string[]).includes(key)) continue;
      attributes[key] = traits[key]!;
    }
    const created = firstPresent(traits['createdAt'], traits['created_at']);
    if (created !== undefined) fields.created = created;
    const context = objectAt(r, 'context') ?? {};
    for (const f of SEGMENT_CONTEXT_FIELDS) {
      const v = firstPresent(traits[f], context[f]);
      if (v !== undefined) fields[f] = v;
    }
    return {
      userId: r['userId'],
      time: utcIfNaive(firstPresent(r['timestamp'], r['originalTimestamp'], r['receivedAt'])),
      fields,
      attributes,
    };
  },
};
