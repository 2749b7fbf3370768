import type { RowOptions } from '../../src/events/row.js';
import { DAY, PLATFORM_WINDOW, type TimeRule } from '../../src/time/clamp.js';

/** The default rule (D = 2d, A = 360d, 5 min tolerance, min time 2000-01-01) at import time T. */
export const defaultRule = (importAt: number, over: Partial<TimeRule> = {}): TimeRule => ({
  importAt, maxDelay: 2 * DAY, clampAge: 360 * DAY, window: PLATFORM_WINDOW, futureTolerance: 300, minTime: 946_684_800, mode: 'keep', ...over,
});

export const rowOptions = (importAt: number, over: Partial<RowOptions> = {}): RowOptions => ({
  rule: defaultRule(importAt), timeFormat: 'auto', zone: 'UTC', maxCount: 1000, valueIsTotal: false, ...over,
});
