/** The HTTP status behind a GCS client error: ApiError carries `code`, a raw GaxiosError `status`. */
export function httpStatusOf(e: unknown): number | undefined {
  const x = e as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const c of [x.code, x.status, x.response?.status]) if (typeof c === 'number') return c;
  return undefined;
}
