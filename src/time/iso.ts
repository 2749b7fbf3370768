/** Unix seconds → ISO 8601 UTC without milliseconds (2026-11-20T00:00:00Z): the one time formatter of every output and record. */
export const isoSeconds = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
