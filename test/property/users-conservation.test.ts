import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeUserRecords } from '../../src/events/user-merge.js';
import { tempDir, transformFile } from '../helpers/run.js';

// --kind users on generated CSV people files (issue 19): every row is kept, rejected or dropped;
// one clean row per distinct kept user, in code-point order; each cell is the merge rule's value
// (an oracle: the rows as user records through mergeUserRecords).
const cell = fc.oneof(fc.constantFrom('', 'a', 'b', 'x y', 'Oslo, NO', 'q"uote', '7', 'Ω'), fc.string({ maxLength: 5 }));
const rowArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      fc.constantFrom('u1', 'u2', 'u3', 'Ü', '', ' '),
      fc.option(fc.integer({ min: 1_700_000_000, max: 1_700_000_100 }).map(String), { nil: '' }),
      cell,
      cell,
      fc.constantFrom('en', 'de', ''),
    ),
  },
  { weight: 1, arbitrary: fc.array(cell, { minLength: 1, maxLength: 4 }) },
);
const quote = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);

describe('--kind users: conservation and the merge on generated CSV', () => {
  it('read = kept + rejected + dropped; written = distinct kept users; cells = the merge of the kept rows', async () => {
    const dir = await tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 30 }), async (rows) => {
        const input = join(dir, `p${run}.csv`);
        const out = join(dir, `o${run++}`);
        await writeFile(input, `uid,updated,plan,note,locale\n${rows.map((r) => r.map(quote).join(',')).join('\n')}\n`);
        const { summaryJson: s, clean } = await transformFile(input, { out, kind: 'users', map: ['userId=uid', 'time=updated'], canary: '0' });
        const c = s.counts;
        expect(c.read).toBe(rows.length);
        expect(c.kept + c.rejected + c.dropped).toBe(c.read);
        expect(s.conservation.ok).toBe(true);
        // the oracle: well-formed rows with a user id and something to set, merged
        const kept = rows.flatMap((r, position) => {
          if (r.length !== 5 || r[0]!.trim() === '') return [];
          const [userId, updated, plan, note, locale] = r as [string, string, string, string, string];
          const attributes = { plan, note };
          if (plan === '' && note === '' && locale === '') return [];
          return [
            { position, record: { userId, time: updated === '' ? undefined : Number(updated) * 1000, fields: locale === '' ? {} : { locale }, attributes } },
          ];
        });
        expect(c.kept).toBe(kept.length);
        const merged = mergeUserRecords(kept, false);
        expect(c.written).toBe(merged.length);
        expect(clean.map((r) => r['userId'])).toEqual(merged.map((u) => u.userId));
        for (const [i, u] of merged.entries()) {
          const row = clean[i]!;
          for (const a of ['plan', 'note']) expect(row[`userAttributes.${a}`] ?? '', `${u.userId} ${a}`).toBe((u.attributes[a] as string | undefined) ?? '');
          expect(row['locale'] ?? '').toBe((u.fields.locale as string | undefined) ?? '');
        }
      }),
      { numRuns: 40 },
    );
  });
});
