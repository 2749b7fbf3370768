// --kind plumbing (issue 19): the option through the config, the recorded options and the resume
// gate, and the contract of the non-event kinds' columns (model/kinds.ts).
import { describe, expect, it } from 'vitest';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { effectiveOptions } from '../../src/transform/transform-options.js';
import { changedOptions, mayResume } from '../../src/run/run-machine.js';
import { actionOf, formatList, kindOfOptions, totalsColumns, usersColumns } from '../../src/model/kinds.js';
import type { Manifest } from '../../src/model/manifest.js';

const raw = { input: 'in.csv', out: 'o', importAt: '2026-11-20T00:00:00Z' };
const now = new Date('2026-11-20T00:00:00Z');

describe('--kind in the transform config', () => {
  it('is events unless given; totals and users are kept', () => {
    expect(buildTransformConfig(raw, now).kind).toBe('events');
    expect(buildTransformConfig({ ...raw, kind: 'totals' }, now).kind).toBe('totals');
    expect(buildTransformConfig({ ...raw, kind: 'users' }, now).kind).toBe('users');
  });

  it('refuses an unknown kind, and --order input for a kind folded per user, naming why', () => {
    expect(() => buildTransformConfig({ ...raw, kind: 'profiles' }, now)).toThrow(/kind: expected one of events, users, totals, found "profiles"/);
    expect(() => buildTransformConfig({ ...raw, kind: 'totals', order: 'input' }, now)).toThrow(
      /--kind totals writes one row per user.*leave out --order input/,
    );
    expect(() => buildTransformConfig({ ...raw, kind: 'users', order: 'input' }, now)).toThrow(/--kind users writes one row per user/);
    expect(buildTransformConfig({ ...raw, order: 'input' }, now).order).toBe('input');
  });
});

describe('a run directory keeps its kind', () => {
  const options = (kind?: string) => effectiveOptions(buildTransformConfig({ ...raw, ...(kind ? { kind } : {}) }, now));
  const manifest = (recorded: Record<string, unknown>): Manifest =>
    ({
      schemaVersion: 2,
      runId: 'r',
      createdAt: '',
      updatedAt: '',
      tool: { name: 'lp-backfill', version: '0' },
      transform: { inputs: [], sampled: null, importAt: raw.importAt, options: recorded },
      parts: [],
    }) as unknown as Manifest;

  it('is one of the recorded options; a run recorded before --kind is events', () => {
    expect(options('totals')['kind']).toBe('totals');
    const before = { ...options() };
    delete before['kind'];
    expect(changedOptions(before, options())).toEqual([]);
    expect(changedOptions(before, options('totals'))).toEqual(['kind']);
    expect(kindOfOptions(before)).toBe('events');
    expect(kindOfOptions(options('totals'))).toBe('totals');
  });

  it('resuming with another kind is OPTIONS_CHANGED with the fix', () => {
    const r = mayResume(manifest(options('totals')), 'out', undefined, options('events'));
    expect(r?.gate).toBe('options-changed');
    expect(r?.message).toContain('--kind (then "totals", now "events")');
    expect(r?.fix).toContain('resume it with --kind totals');
    expect(mayResume(manifest(options('totals')), 'out', undefined, options('totals'))).toBeUndefined();
  });
});

describe('the columns of the kinds folded per user', () => {
  it('the action of each kind', () => {
    expect([actionOf('events'), actionOf('users'), actionOf('totals')]).toEqual(['track', 'setUserAttributes', 'setUserAttributes']);
  });

  it('totals: userId, then per event name in code-point order count, firstTime, lastTime, value', () => {
    expect(totalsColumns(['buy', 'Open', 'buy', 'Ä']).map((c) => `${c.name}:${c.type}`)).toEqual([
      'userId:string',
      'events.Open.count:integer',
      'events.Open.firstTime:epoch',
      'events.Open.lastTime:epoch',
      'events.Open.value:decimal',
      'events.buy.count:integer',
      'events.buy.firstTime:epoch',
      'events.buy.lastTime:epoch',
      'events.buy.value:decimal',
      'events.Ä.count:integer',
      'events.Ä.firstTime:epoch',
      'events.Ä.lastTime:epoch',
      'events.Ä.value:decimal',
    ]);
  });

  it('users: userId, the fields present in their fixed order, then userAttributes.<name> in code-point order', () => {
    const cols = usersColumns(
      ['timezone', 'created', 'country'],
      [
        { name: 'plan', type: 'string' },
        { name: 'Age', type: 'number' },
        { name: 'friends', type: 'list' },
      ],
    );
    expect(cols.map((c) => `${c.name}:${c.type}`)).toEqual([
      'userId:string',
      'created:epoch',
      'country:string',
      'timezone:string',
      'userAttributes.Age:number',
      'userAttributes.friends:list',
      'userAttributes.plan:string',
    ]);
  });

  it('a list is written in the bracket form of Leanplum sample row', () => {
    expect(formatList(['Jimmy', 'Sara', 'Amy'])).toBe('[Jimmy, Sara, Amy]');
    expect(formatList([])).toBe('[]');
  });
});
