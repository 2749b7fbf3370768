import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md: the stand-ins are written from the contracts, not from the tool's code. A stand-in that
// imports the tool's rules agrees with the tool by construction, and a test against it proves nothing.
const dir = join(import.meta.dirname, '..', 'stand-ins');

describe('the GCS and Leanplum stand-ins', () => {
  it('import nothing from the tool (src/) or from the tests around them', async () => {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.ts'));
    expect(names).toEqual(expect.arrayContaining(['gcs-emulator.ts', 'leanplum-simulator.ts', 'http-util.ts']));
    const bad: string[] = [];
    for (const n of names) {
      const text = await readFile(join(dir, n), 'utf8');
      const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)].map((m) => m[1]!);
      expect(specs.length, n).toBeGreaterThan(0);
      for (const s of specs) if (s.startsWith('.') && !s.startsWith('./')) bad.push(`${n} → ${s}`);
    }
    expect(bad).toEqual([]);
  });
});
