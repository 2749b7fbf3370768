import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The same module runs from src/ (tests) and dist/src/ (the built CLI): look upward for package.json.
function findPackageJson(): { name: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, 'utf8')) as { name: string; version: string };
    const up = dirname(dir);
    if (up === dir) return { name: 'leanplum-backfill', version: '0.0.0' };
    dir = up;
  }
}

const pkg = findPackageJson();
export const TOOL = { name: pkg.name, version: pkg.version } as const;
