// Every relative link in README.md and docs/*.md must lead somewhere: the file exists, and a
// #anchor names a heading of the target (GitHub's slug rules). A newcomer who clicks a dead link
// in the README stops reading.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run.js';

/** The text of a Markdown line with fenced code blocks blanked out (links in code are examples). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m !== null) {
      if (fence === undefined) fence = m[1]!.slice(0, 3);
      else if (m[1]!.startsWith(fence)) fence = undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
}

/** GitHub's heading slug: lower case, punctuation removed (letters, digits, spaces, - and _ kept), spaces → -. */
function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/[`*]/g, '') // code and emphasis marks are not part of the text
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors a Markdown file offers: one per heading, repeats numbered -1, -2… as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m === null) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative link targets of a Markdown text (outside code), as written. */
function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const line of proseLines(markdown)) {
    const prose = line.replace(/`[^`]*`/g, ''); // inline code is an example, not a link
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:…
      links.push(target);
    }
  }
  return links;
}

/** Broken links of one file: each as "target: why". */
function brokenLinks(file: string, read: (path: string) => string | undefined): string[] {
  const text = read(file);
  if (text === undefined) return [`${file}: cannot be read`];
  const problems: string[] = [];
  for (const link of relativeLinks(text)) {
    const [pathPart, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = pathPart === '' ? file : join(dirname(file), decodeURIComponent(pathPart));
    const targetText = read(target);
    if (targetText === undefined) {
      problems.push(`${link}: no file ${target}`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && /\.md$/i.test(target) && !anchorsOf(targetText).has(decodeURIComponent(anchor).toLowerCase()))
      problems.push(`${link}: no heading "#${anchor}" in ${target} (headings: ${[...anchorsOf(targetText)].join(', ')})`);
  }
  return problems;
}

const readRepo = (path: string): string | undefined => {
  const abs = join(repoRoot, path);
  if (!existsSync(abs)) return undefined;
  return statSync(abs).isDirectory() ? '' : readFileSync(abs, 'utf8');
};

const docs = existsSync(join(repoRoot, 'docs'))
  ? readdirSync(join(repoRoot, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => relative(repoRoot, join(repoRoot, 'docs', f)))
  : [];

describe('links in the README and docs/', () => {
  it('GitHub slugs: code marks and punctuation go, spaces become hyphens, repeats are numbered', () => {
    expect(slug('`--shard auto`')).toBe('--shard-auto');
    expect(slug('Order & shards')).toBe('order--shards');
    expect(slug('Recovering from an unknown launch')).toBe('recovering-from-an-unknown-launch');
    expect(slug('The arithmetic of a 1-billion-row backfill')).toBe('the-arithmetic-of-a-1-billion-row-backfill');
    expect([...anchorsOf('# A\n## B\n```\n# not a heading\n```\n## B\n')]).toEqual(['a', 'b', 'b-1']);
  });

  it('the checker finds a missing file, a missing heading, and ignores code, URLs and good links', () => {
    const files: Record<string, string> = {
      'README.md': [
        '[ok](docs/a.md) [ok anchor](docs/a.md#the-part) [self](#top) [web](https://example.com/x.md)',
        '`[in code](docs/nothing.md)`',
        '```',
        '[in a fence](docs/nothing.md)',
        '```',
        '[gone](docs/gone.md) [bad anchor](docs/a.md#no-such-part)',
        '# Top',
      ].join('\n'),
      'docs/a.md': '# A\n## The part\n',
    };
    const problems = brokenLinks('README.md', (p) => files[p]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('docs/gone.md');
    expect(problems[1]).toContain('#no-such-part');
  });

  it('finds the README and the docs it links to', () => {
    expect(readRepo('README.md')).toBeDefined();
    expect(relativeLinks(readRepo('README.md')!).filter((l) => l.startsWith('docs/')).length).toBeGreaterThan(5);
    expect(docs.length).toBeGreaterThan(3);
  });

  it.each(['README.md', ...docs])('every relative link in %s resolves (file, and #heading if any)', (file) => {
    expect(brokenLinks(file, readRepo)).toEqual([]);
  });
});
