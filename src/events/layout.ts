/** Where each Leanplum field sits in a source record (column indices, -1 when absent). */
export interface RowLayout {
  width: number;
  userId: number;
  event: number;
  time: number;
  value: number;
  currencyCode: number;
  count: number;
  first: number;
  last: number;
  /** the vendor's event id (--dedupe-key, or a preset's), -1 when duplicates are whole-row matches */
  dedupe: number;
  params: readonly ParamColumn[];
}

export interface ParamColumn {
  index: number;
  /** the name after `params.` in the output header */
  name: string;
}
