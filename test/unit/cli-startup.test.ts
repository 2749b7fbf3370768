import { describe, expect, it } from 'vitest';
import type { Args } from '../../src/cli/context.js';
import { buildParser, type CommandName } from '../../src/cli/parser.js';

// Issue 21 (start-up): yargs renders a command's whole help text after running its handler, in case
// the handler asks for it later; that was 0.12–0.20 s of every run. The help text is rendered only
// when --help asks for it. Counted through yargs' usage instance (the object that renders help).

const NAMES: CommandName[] = ['transform', 'preview', 'upload', 'launch', 'status', 'wait', 'run', 'send'];

interface Usage {
  help: () => string;
}

async function helpRenders(argv: string[]): Promise<{ renders: number; ran: boolean; printed: string }> {
  let ran = false;
  const keep = async (_a: Args) => {
    ran = true;
  };
  const handlers = Object.fromEntries(NAMES.map((n) => [n, keep])) as Record<CommandName, (a: Args) => Promise<void>>;
  const parser = buildParser(argv, handlers, (msg) => {
    throw new Error(`usage: ${msg}`);
  });
  const usage = (parser as unknown as { getInternalMethods: () => { getUsageInstance: () => Usage } }).getInternalMethods().getUsageInstance();
  let renders = 0;
  const render = usage.help;
  usage.help = function (this: unknown) {
    renders++;
    return render.call(this);
  };
  // with a parse callback, yargs hands over what --help would print instead of printing it and exiting
  let printed = '';
  await parser.parseAsync(argv, {}, (_err, _argv, output) => {
    printed = output;
  });
  return { renders, ran, printed };
}

describe('start-up', () => {
  it('a transform renders no help text', async () => {
    const r = await helpRenders(['transform', 'in.csv', '--out', '/tmp/x']);
    expect(r.ran).toBe(true);
    expect(r.renders).toBe(0);
  });

  it('--help still renders it (the count above can see a render)', async () => {
    const r = await helpRenders(['transform', '--help']);
    expect(r.ran).toBe(false);
    expect(r.renders).toBeGreaterThan(0);
    expect(r.printed).toContain('--out');
  });
});
