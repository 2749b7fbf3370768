import { amplitude } from './amplitude.js';
import { ga4 } from './ga4.js';
import { mixpanel } from './mixpanel.js';
import { posthog } from './posthog.js';
import { segment } from './segment.js';
import type { Preset } from './types.js';

/** --preset names; firebase is GA4's export under another name (same BigQuery schema). */
export const PRESETS: Readonly<Record<string, Preset>> = { mixpanel, amplitude, segment, ga4, firebase: ga4, posthog };
export const PRESET_NAMES = Object.keys(PRESETS);

export type { Preset, VendorEvent } from './types.js';
