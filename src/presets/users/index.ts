import { amplitudeUserProperties } from './amplitude.js';
import { ga4UserProperties } from './ga4.js';
import { mixpanelPeople } from './mixpanel.js';
import { posthogPersons } from './posthog.js';
import { segmentIdentify } from './segment.js';
import type { UserPreset } from './types.js';

/** --preset names for --kind users (the same names as the event presets; firebase is GA4's export). */
export const USER_PRESETS: Readonly<Record<string, UserPreset>> = {
  mixpanel: mixpanelPeople,
  amplitude: amplitudeUserProperties,
  segment: segmentIdentify,
  ga4: ga4UserProperties,
  firebase: ga4UserProperties,
  posthog: posthogPersons,
};

/**
 * Where a users preset takes each part, for summary.json `config.mapping` and the report (as the
 * event presets name their sources): `<rule> (--preset <name>)` per part.
 */
export function userPresetMapping(preset: UserPreset): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [part, rule] of Object.entries(preset.sources)) out[part] = `${rule} (--preset ${preset.name})`;
  return out;
}

export type { UserPreset, UserPresetSkip, VendorUser } from './types.js';
