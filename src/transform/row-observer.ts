import type { KeptRow } from '../events/row.js';
import type { DropReason, RejectReason } from '../events/reasons.js';
import type { ResolvedMapping } from '../input/mapping.js';

/** Optional listeners that see every row (the report collector is one); `file` names the input. */
export interface RowObserver {
  start?(header: readonly string[], mapping: ResolvedMapping, inputs: readonly string[]): void;
  kept?(row: KeptRow, line: number, file: string): void;
  rejected?(fields: readonly string[], line: number, reason: RejectReason, message: string, file: string): void;
  dropped?(fields: readonly string[], line: number, reason: DropReason, file: string): void;
}
