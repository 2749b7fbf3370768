/** How stages tell the CLI what happened: an event name, its fields (for NDJSON) and a text line. */
export type Log = (event: string, fields: Record<string, unknown>, text: string) => void;
