import { describe, expect, it } from 'vitest';
import { matchMultiAnswer } from '../../src/leanplum/contract.js';
import { MultiClient, type MultiClientOptions } from '../../src/leanplum/multi-client.js';

const KEY = 'prod_SECRETKEY_1234';

interface Seen {
  url: string;
  body: Record<string, unknown>;
  raw: string;
}

type Reply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'network-error';

/** A fetch that records each request and answers from a script (the last reply repeats). */
function scripted(replies: Reply[]) {
  const seen: Seen[] = [];
  const f = (async (url: URL | string, init?: RequestInit) => {
    const raw = String(init?.body);
    seen.push({ url: String(url), body: JSON.parse(raw) as Record<string, unknown>, raw });
    const r = replies.length > 1 ? replies.shift()! : replies[0]!;
    if (r === 'network-error') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    return new Response(r.text ?? JSON.stringify(r.json), { status: r.status ?? 200, headers: r.headers ?? {} });
  }) as typeof fetch;
  return { f, seen };
}

function client(f: typeof fetch, extra: Partial<MultiClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = new MultiClient({
    apiUrl: 'https://api.leanplum.com/api',
    appId: 'app1',
    clientKey: KEY,
    fetch: f,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    now: () => 1_700_000_000_123,
    ...extra,
  });
  return { c, sleeps };
}

const data = JSON.stringify([
  { action: 'track', userId: 'u1', event: 'e', time: 1, params: {}, reqId: 'r1', uuid: 'b' },
  { action: 'track', userId: 'u1', event: 'e', time: 2, params: {}, reqId: 'r2', uuid: 'b' },
]);
const ids = ['r1', 'r2'];
const okAnswer = {
  json: { response: [{ success: true }, { success: true, warning: { message: 'Past event detected (400 days ago). Rewriting timestamp.' } }] },
};

describe('JSON multi client', () => {
  it('POSTs JSON to ?action=multi with the key in the body only, apiVersion 1.0.6, the send time, no devMode', async () => {
    const { f, seen } = scripted([okAnswer]);
    const { c } = client(f);
    const out = await c.send(data, ids);
    expect(out.kind).toBe('answered');
    expect(seen).toHaveLength(1);
    const s = seen[0]!;
    expect(s.url).toBe('https://api.leanplum.com/api?action=multi');
    expect(s.url).not.toContain(KEY);
    expect(s.body).toEqual({ appId: 'app1', clientKey: KEY, apiVersion: '1.0.6', time: 1_700_000_000, data: JSON.parse(data) });
    expect('devMode' in s.body).toBe(false);
    if (out.kind === 'answered') {
      expect(out.results.map((r) => [r.success, r.warning ?? null])).toEqual([
        [true, null],
        [true, 'Past event detected (400 days ago). Rewriting timestamp.'],
      ]);
      expect(out.matchedBy).toBe('index');
    }
  });

  it('matches answers by an echoed reqId, whatever their order; a count or reqId that does not fit is no answer', () => {
    const m = matchMultiAnswer(
      {
        response: [
          { success: false, reqId: 'r2', error: { message: 'bad' } },
          { success: true, reqId: 'r1' },
        ],
      },
      ids,
    );
    expect(m.ok && m.matchedBy).toBe('reqId');
    expect(m.ok && m.results.map((r) => r.success)).toEqual([true, false]);
    expect(matchMultiAnswer({ response: [{ success: true }] }, ids)).toEqual({ ok: false, reason: '1 response(s) for 2 action(s)' });
    expect(
      matchMultiAnswer(
        {
          response: [
            { success: true, reqId: 'r1' },
            { success: true, reqId: 'zz' },
          ],
        },
        ids,
      ).ok,
    ).toBe(false);
    expect(
      matchMultiAnswer(
        {
          response: [
            { success: true, reqId: 'r1' },
            { success: true, reqId: 'r1' },
          ],
        },
        ids,
      ).ok,
    ).toBe(false);
    expect(matchMultiAnswer({ response: [{ success: true, reqId: 'r1' }, { success: true }] }, ids).ok).toBe(false);
    // success:true with an error is a failed action (Leanplum: verify there are no error messages)
    const e = matchMultiAnswer({ response: [{ success: true, error: { message: 'x' } }, { success: true }] }, ids);
    expect(e.ok && e.results[0]!.success).toBe(false);
  });

  it('a response count that differs from the actions sent leaves the batch unknown, not retried', async () => {
    const { f, seen } = scripted([{ json: { response: [{ success: true }] } }]);
    const out = await client(f).c.send(data, ids);
    expect(out).toMatchObject({ kind: 'unknown', attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it('429 with Retry-After: the same actions again, no sooner than asked', async () => {
    const { f, seen } = scripted([
      { status: 429, json: { response: [{ success: false, error: { message: 'Too many requests' } }] }, headers: { 'retry-after': '7' } },
      okAnswer,
    ]);
    const { c, sleeps } = client(f);
    const out = await c.send(data, ids);
    expect(out).toMatchObject({ kind: 'answered', attempts: 2 });
    expect(sleeps[0]).toBeGreaterThanOrEqual(7000);
    expect(seen[1]!.body['data']).toEqual(seen[0]!.body['data']);
    expect(c.retries).toBe(1);
  });

  it('503, 408 and a network error are retried; 429 until the retries run out is refused (not applied), a 5xx or lost connection on the way makes it unknown', async () => {
    const s1 = scripted([{ status: 503, text: 'busy' }, { status: 408, text: '' }, 'network-error', okAnswer]);
    expect(await client(s1.f).c.send(data, ids)).toMatchObject({ kind: 'answered', attempts: 4 });
    const s2 = scripted([{ status: 429, text: '' }]);
    const r2 = await client(s2.f, { retry: { maxAttempts: 3, baseMs: 1, capMs: 1, maxRetryAfterMs: 1000 } }).c.send(data, ids);
    expect(r2).toMatchObject({ kind: 'refused', status: 429, permanent: false, attempts: 3 });
    const s3 = scripted(['network-error', { status: 429, text: '' }]);
    const r3 = await client(s3.f, { retry: { maxAttempts: 3, baseMs: 1, capMs: 1, maxRetryAfterMs: 1000 } }).c.send(data, ids);
    expect(r3).toMatchObject({ kind: 'unknown', attempts: 3 });
  });

  it('403 stops at once (no retry); a bad key is permanent and its text never carries the key', async () => {
    const s1 = scripted([{ status: 403, json: { response: [{ success: false, error: { message: 'Batch too large' } }] } }]);
    expect(await client(s1.f).c.send(data, ids)).toMatchObject({ kind: 'refused', status: 403, stop: true, attempts: 1 });
    expect(s1.seen).toHaveLength(1);
    const s2 = scripted([{ status: 401, json: { response: [{ success: false, error: { message: `Invalid access key "${KEY}"` } }] } }]);
    const r2 = await client(s2.f).c.send(data, ids);
    expect(r2).toMatchObject({ kind: 'refused', permanent: true });
    expect(JSON.stringify(r2)).not.toContain(KEY);
    expect(JSON.stringify(r2)).toContain('Invalid access key');
    // an echoed key inside a per-action message is scrubbed too
    const s3 = scripted([{ json: { response: [{ success: false, error: { message: `no (${KEY})` } }, { success: true }] } }]);
    expect(JSON.stringify(await client(s3.f).c.send(data, ids))).not.toContain(KEY);
  });

  it('apiHost: followed once, over https, with the same actions; a second one or a strange host is refused', async () => {
    const redirect = {
      json: { response: [{ success: false, apiHost: 'api2.leanplum.com', apiPath: 'api', error: { message: 'App endpoint configuration mismatch' } }] },
    };
    const s1 = scripted([redirect, okAnswer]);
    const moved: string[] = [];
    const { c } = client(s1.f, { apiUrl: 'http://127.0.0.1:9/api', onRedirect: (a, b) => moved.push(`${a} → ${b}`) });
    expect(await c.send(data, ids)).toMatchObject({ kind: 'answered' });
    expect(s1.seen.map((s) => s.url)).toEqual(['http://127.0.0.1:9/api?action=multi', 'https://api2.leanplum.com/api?action=multi']);
    expect(s1.seen[1]!.body['data']).toEqual(s1.seen[0]!.body['data']);
    expect(moved).toEqual(['http://127.0.0.1:9/api → https://api2.leanplum.com/api']);
    const s2 = scripted([redirect]);
    expect(await client(s2.f).c.send(data, ids)).toMatchObject({ kind: 'refused', permanent: true });
    expect(s2.seen).toHaveLength(2);
    const s3 = scripted([{ json: { response: [{ success: false, apiHost: 'evil.example/x?', error: { message: 'm' } }] } }]);
    expect(await client(s3.f).c.send(data, ids)).toMatchObject({ kind: 'refused', permanent: true });
    expect(s3.seen).toHaveLength(1);
  });

  it('refuses a plain-http API URL that is not loopback (the key would travel in clear)', () => {
    expect(() => client(scripted([okAnswer]).f, { apiUrl: 'http://api.leanplum.com/api' })).toThrow(/unencrypted/);
  });
});
