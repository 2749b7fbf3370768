import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Encoding, firstInvalidUtf8, guessUtf16, parseEncoding, shownBytes, type TextInfo, utf8Chunks } from '../../src/input/encoding.js';
import { needsEscape, shown, shownList } from '../../src/input/shown.js';
import type { Manifest } from '../../src/model/manifest.js';
import { mayResume } from '../../src/run/run-machine.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { effectiveOptions } from '../../src/transform/transform-options.js';

/** The bytes cut at the given places, as a stream would hand them over. */
async function* chunked(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(bytes.length, c);
    if (to > at) yield bytes.subarray(at, to);
    at = Math.max(at, to);
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

async function decode(
  bytes: Buffer,
  cuts: readonly number[],
  encoding: Encoding = 'utf-8',
  csv = true,
): Promise<{ out?: Buffer; error?: string; code?: string | undefined }> {
  const info: TextInfo = { csv };
  const parts: Buffer[] = [];
  try {
    for await (const c of utf8Chunks(chunked(bytes, cuts), { encoding, name: 'in.csv' }, info)) parts.push(Buffer.from(c));
    return { out: Buffer.concat(parts) };
  } catch (e) {
    return { error: (e as Error).message, code: (e as { code?: string }).code };
  }
}

const cutsArb = fc.array(fc.nat({ max: 120 }), { maxLength: 10 });
/** bytes around the edges of UTF-8: ASCII, line ends, lead and continuation bytes, overlong and surrogate starts */
const byteArb = fc.constantFrom(0x61, 0x2c, 0x0a, 0x0d, 0x00, 0x7f, 0x80, 0x8f, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff);
const textArb = fc.string({ unit: fc.constantFrom('a', ',', '\n', '\r\n', '\r', 'é', 'Ω', '€', '😀', '\u0000', '\uFEFF'), maxLength: 40 });

/** The line of a byte offset as a CSV reader counts physical lines (CRLF, LF and a lone CR each end one). */
function lineOf(bytes: Buffer, at: number, csv: boolean): number {
  const s = bytes.subarray(0, at).toString('latin1');
  return 1 + (csv ? (s.match(/\r\n|\n|\r(?!\n)/g) ?? []).length - (s.endsWith('\r') && bytes[at] === 10 ? 1 : 0) : (s.match(/\n/g) ?? []).length);
}

describe('firstInvalidUtf8', () => {
  it('agrees with isUtf8 and TextDecoder (fatal) on any bytes, and points at the first byte TextDecoder replaces', () => {
    fc.assert(
      fc.property(fc.array(byteArb, { maxLength: 40 }), (b) => {
        const buf = Buffer.from(b);
        const at = firstInvalidUtf8(buf);
        expect(at < 0).toBe(isUtf8(buf));
        if (at >= 0) {
          // the prefix before it is valid, and TextDecoder keeps it as is
          expect(isUtf8(buf.subarray(0, at))).toBe(true);
          const replaced = new TextDecoder().decode(buf);
          expect(replaced.startsWith(buf.toString('utf8', 0, at))).toBe(true);
          expect(replaced.charAt(buf.toString('utf8', 0, at).length)).toBe('\uFFFD');
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('with final=false, a well-formed character cut at the end is not invalid', () => {
    const euro = Buffer.from('a€');
    expect(firstInvalidUtf8(euro, 0, 3, false)).toBe(-1);
    expect(firstInvalidUtf8(euro, 0, 3, true)).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe0, 0x80]), 0, 3, false)).toBe(1); // overlong: never well-formed
  });
});

describe('utf8Chunks, UTF-8 (the default)', () => {
  it('valid UTF-8 passes through byte for byte, however it is cut', async () => {
    await fc.assert(
      fc.asyncProperty(textArb, cutsArb, async (s, cuts) => {
        const bytes = Buffer.from(`h,e,t\n${s}`);
        expect(await decode(bytes, cuts)).toEqual({ out: bytes });
      }),
      { numRuns: 1500 },
    );
  });

  it('invalid bytes: one error, the same however the input is cut, naming the first bad byte, its line and offset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(byteArb, { maxLength: 60 }), cutsArb, fc.boolean(), async (b, cuts, csv) => {
        const bytes = Buffer.concat([Buffer.from('h,e,t\n'), Buffer.from(b)]);
        const whole = await decode(bytes, [], 'utf-8', csv);
        expect(await decode(bytes, cuts, 'utf-8', csv)).toEqual(whole);
        const at = firstInvalidUtf8(bytes);
        if (at < 0) {
          expect(whole.out).toEqual(bytes);
          return;
        }
        expect(whole.code).toBe('INPUT_MALFORMED');
        expect(whole.error).toContain(`"in.csv" is not valid UTF-8: line ${lineOf(bytes, at, csv)}, byte offset ${at}: `);
        expect(whole.error).toContain(bytes[at]!.toString(16).toUpperCase().padStart(2, '0'));
      }),
      { numRuns: 3000 },
    );
  });

  it("issue 16: Latin-1 'Jos\\xE9' stops with the line, the offset and the byte, not U+FFFD", async () => {
    const bytes = Buffer.from('userId,event,time\nJos\xe9,open,2026-01-01\nJos\xe8,open,2026-01-01\n', 'latin1');
    const r = await decode(bytes, [20]);
    expect(r.code).toBe('INPUT_MALFORMED');
    expect(r.error).toBe(
      '"in.csv" is not valid UTF-8: line 2, byte offset 21: byte E9 (a single byte like this is typical of windows-1252 or latin1), in "Jos\\xE9,open,2026-01-01"',
    );
  });

  it('a character cut off by the end of the input is an error at its first byte', async () => {
    const r = await decode(Buffer.from('a,b\nx\xe2\x82', 'latin1'), [5]);
    expect(r.error).toContain('line 2, byte offset 5: bytes E2 82');
  });

  it('UTF-16 without a byte-order mark is named, with the flag to add', async () => {
    for (const [enc, bytes] of [
      ['utf-16le', Buffer.from('userId,event,time\n', 'utf16le')],
      ['utf-16be', Buffer.from('userId,event,time\n', 'utf16le').swap16()],
    ] as const) {
      const r = await decode(bytes, []);
      expect(r.error).toBe(
        `"in.csv" looks like ${enc.toUpperCase()} without a byte-order mark (every other byte of its first bytes is 0); add --encoding ${enc}`,
      );
      expect(guessUtf16(bytes)).toBe(enc);
    }
    expect(guessUtf16(Buffer.from('userId,event,time\nJosé,x,1\n'))).toBeUndefined();
  });

  it('a UTF-16 byte-order mark decides over the default', async () => {
    const text = 'userId,event\r\nJosé 😀,x\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const info: TextInfo = { csv: true };
    const parts: Buffer[] = [];
    for await (const c of utf8Chunks(chunked(le, [1, 3, 8]), { encoding: 'utf-8', name: 'x' }, info)) parts.push(c);
    expect(Buffer.concat(parts).toString()).toBe(text);
    expect(info.used).toBe('utf-16le (byte-order mark)');
  });
});

describe('utf8Chunks, --encoding', () => {
  it('UTF-16LE/BE: any text, any cut, decodes to its UTF-8 bytes', async () => {
    await fc.assert(
      fc.asyncProperty(textArb, cutsArb, fc.boolean(), fc.boolean(), async (s, cuts, be, bom) => {
        const enc: Encoding = be ? 'utf-16be' : 'utf-16le';
        let bytes = Buffer.from(`${bom ? '\uFEFF' : ''}h${s}`, 'utf16le');
        if (be) bytes = Buffer.from(bytes).swap16();
        expect(await decode(bytes, cuts, enc)).toEqual({ out: Buffer.from(`h${s}`) });
      }),
      { numRuns: 1500 },
    );
  });

  it('UTF-16: an unpaired surrogate or an odd last byte stops with its offset and line', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\nc,', 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])]);
    const r = await decode(bytes, [3, 13], 'utf-16le');
    expect(r.error).toBe('"in.csv" is not valid UTF-16LE: line 2, byte offset 12: a high surrogate D800 without a low one after it (bytes 00 D8 41 00)');
    const odd = await decode(Buffer.concat([Buffer.from('a,b\n', 'utf16le'), Buffer.from([0x61])]), [], 'utf-16le');
    expect(odd.error).toContain('line 2, byte offset 8: the input ends with an odd byte');
  });

  it('latin1 is ISO-8859-1 (byte = code point); windows-1252 differs in 0x80–0x9F', async () => {
    const bytes = Buffer.from([0x4a, 0x6f, 0x73, 0xe9, 0x80, 0x0a]);
    expect((await decode(Buffer.from([0x4a, 0x6f, 0x73, 0xe9, 0x0a]), [4], 'latin1')).out!.toString()).toBe('José\n');
    expect((await decode(bytes, [4], 'windows-1252')).out!.toString()).toBe('José€\n');
    // latin1 would read 0x80 as an invisible C1 control character, which no export means: stop and name windows-1252
    expect((await decode(bytes, [4], 'latin1')).error).toContain('which latin1 reads as an invisible control character');
  });

  it('a UTF-8 file read as latin1 stops instead of becoming "JosÃ©"', async () => {
    const r = await decode(Buffer.from('userId,event\nJosé,x\n'), [], 'latin1');
    expect(r.error).toContain('looks like UTF-8, but --encoding latin1 was given: line 2, byte offset 16');
  });

  it('a byte-order mark that contradicts --encoding stops the run', async () => {
    const r = await decode(Buffer.from('\uFEFFa,b\n'), [], 'windows-1252');
    expect(r.error).toBe('"in.csv" starts with a UTF-8 byte-order mark, but --encoding windows-1252 was given');
  });

  it('parseEncoding: the five names, any case, and common aliases', () => {
    expect(['UTF-8', 'utf8', 'Latin1', 'ISO-8859-1', 'cp1252', 'utf16le', 'UTF-16BE'].map(parseEncoding)).toEqual([
      'utf-8',
      'utf-8',
      'latin1',
      'latin1',
      'windows-1252',
      'utf-16le',
      'utf-16be',
    ]);
    expect(parseEncoding('ascii')).toBeUndefined();
  });
});

describe('shown: input text in messages', () => {
  it('escapes NUL, controls, quotes and invisible characters JSON-style and cuts at 120 characters', () => {
    expect(shown('u\u0000s\u0000e\u0000r')).toBe('u\\u0000s\\u0000e\\u0000r');
    expect(shown('a\tb\n"c"\\')).toBe('a\\tb\\n\\"c\\"\\\\');
    expect(shown('\uFEFFid\u202E')).toBe('\\uFEFFid\\u202E');
    expect(shown('café 😀')).toBe('café 😀');
    expect(shown('x'.repeat(120))).toBe('x'.repeat(120));
    expect(shown('x'.repeat(121))).toBe(`${'x'.repeat(119)}…`);
    // never cut inside an escape
    expect(shown(`${'x'.repeat(117)}\u0000`)).toBe(`${'x'.repeat(117)}…`);
    expect(needsEscape('user_id')).toBe(false);
    expect(needsEscape('u\u0000')).toBe(true);
  });

  it('any string: at most 120 characters, no control character left, the text itself when nothing needs escaping', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const out = shown(s);
        expect(out.length).toBeLessThanOrEqual(120);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the property is that none is left
        expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        if (!needsEscape(s) && s.length <= 120) expect(out).toBe(s);
      }),
    );
  });

  it('shownList and shownBytes', () => {
    expect(shownList(['a', 'b\u0000'])).toBe('a,b\\u0000');
    expect(shownList(Array.from({ length: 45 }, (_, i) => `c${i}`))).toMatch(/,c39,… \(5 more\)$/);
    expect(shownBytes(Buffer.from([0x4a, 0xe9, 0x0a, 0xc3, 0xa9]))).toBe('J\\xE9\\né');
  });
});

describe('--encoding in the options a run compares', () => {
  it('is part of the effective options, so a resume with another encoding is OPTIONS_CHANGED', () => {
    const cfg = (encoding?: string) =>
      buildTransformConfig(
        { input: 'in.csv', out: 'o', importAt: '2026-11-20T00:00:00Z', ...(encoding === undefined ? {} : { encoding }) },
        new Date('2026-11-19T00:00:00Z'),
      );
    expect(effectiveOptions(cfg())['encoding']).toBe('utf-8');
    const then = effectiveOptions(cfg('latin1'));
    expect(then['encoding']).toBe('latin1');
    const m = {
      schemaVersion: 2,
      runId: 'r',
      createdAt: '',
      updatedAt: '',
      tool: { name: 'lp-backfill', version: '0' },
      parts: [],
      transform: { inputs: [{ name: 'in.csv', bytes: 1, sha256: 'aa' }], sampled: null, options: then },
    } as unknown as Manifest;
    expect(mayResume(m, 'dir', ['aa'], effectiveOptions(cfg('latin1')))).toBeUndefined();
    const r = mayResume(m, 'dir', ['aa'], effectiveOptions(cfg()));
    expect(r?.gate).toBe('options-changed');
    expect(r?.message).toContain('--encoding (then "latin1", now "utf-8")');
  });

  it('a value it does not know is refused, naming the choices', () => {
    expect(() => buildTransformConfig({ input: 'in.csv', out: 'o', encoding: 'ebcdic' }, new Date())).toThrow(
      'encoding: expected one of utf-8, latin1, windows-1252, utf-16le, utf-16be, found "ebcdic"',
    );
  });
});
