import { describe, expect, it } from 'vitest';
import { resolveShardAuto } from '../../src/cli/shard-env.js';
import { BackfillError, exitCodeOf } from '../../src/errors.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { effectiveOptions } from '../../src/transform/transform-options.js';
import { changedOptions } from '../../src/run/run-machine.js';

const fails = (env: Record<string, string>, count?: number): BackfillError => {
  try {
    resolveShardAuto(env, count);
  } catch (e) {
    expect(e).toBeInstanceOf(BackfillError);
    expect(exitCodeOf((e as BackfillError).code)).toBe(2);
    return e as BackfillError;
  }
  throw new Error('expected a usage error');
};

describe('--shard auto', () => {
  it('Cloud Run Jobs: CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT', () => {
    expect(resolveShardAuto({ CLOUD_RUN_TASK_INDEX: '2', CLOUD_RUN_TASK_COUNT: '8' }, undefined)).toBe('2/8');
  });

  it('AWS Batch array jobs: AWS_BATCH_JOB_ARRAY_INDEX / AWS_BATCH_JOB_ARRAY_SIZE', () => {
    expect(resolveShardAuto({ AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ARRAY_SIZE: '3' }, undefined)).toBe('0/3');
  });

  it('Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, the count from --shard-count or LP_BACKFILL_SHARD_COUNT', () => {
    expect(resolveShardAuto({ JOB_COMPLETION_INDEX: '5' }, 10)).toBe('5/10');
    expect(resolveShardAuto({ JOB_COMPLETION_INDEX: '5', LP_BACKFILL_SHARD_COUNT: '10' }, undefined)).toBe('5/10');
    expect(resolveShardAuto({ JOB_COMPLETION_INDEX: '5', LP_BACKFILL_SHARD_COUNT: '10' }, 10)).toBe('5/10');
    expect(fails({ JOB_COMPLETION_INDEX: '5' }).message).toContain('not the number of shards');
  });

  it('refuses when nothing is set, naming every variable it looked for', () => {
    const e = fails({ HOME: '/root' });
    for (const v of ['JOB_COMPLETION_INDEX', 'CLOUD_RUN_TASK_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX']) expect(e.message).toContain(v);
    expect(e.hint).toContain('--shard <i>/<N>');
  });

  it('refuses inconsistent values: counts that disagree, an index past the count, engines that disagree, non-numbers', () => {
    expect(fails({ CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '4' }, 8).message).toContain('CLOUD_RUN_TASK_COUNT=4, --shard-count=8');
    expect(fails({ JOB_COMPLETION_INDEX: '1', LP_BACKFILL_SHARD_COUNT: '4' }, 5).message).toContain('inconsistent');
    expect(fails({ CLOUD_RUN_TASK_INDEX: '4', CLOUD_RUN_TASK_COUNT: '4' }).message).toContain('from 0 to 3');
    expect(fails({ CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '0' }).message).toContain('≥ 1');
    expect(fails({ CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '4', AWS_BATCH_JOB_ARRAY_INDEX: '2', AWS_BATCH_JOB_ARRAY_SIZE: '4' }).message).toContain(
      'disagree',
    );
    expect(
      resolveShardAuto({ CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '4', AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '4' }, undefined),
    ).toBe('1/4');
    expect(fails({ CLOUD_RUN_TASK_INDEX: 'one', CLOUD_RUN_TASK_COUNT: '4' }).message).toContain('not a whole number');
  });
});

describe('the shard and the order are options of the output', () => {
  const cfg = (o: { shard?: string; order?: string; sortMemory?: string }) => buildTransformConfig({ input: 'x.csv', out: 'o', ...o }, new Date());

  it('a resume with another shard or order is a changed option; another --sort-memory is not', () => {
    expect(changedOptions(effectiveOptions(cfg({ shard: '0/4' })), effectiveOptions(cfg({ shard: '1/4' })))).toEqual(['shard']);
    expect(changedOptions(effectiveOptions(cfg({ shard: '1/4' })), effectiveOptions(cfg({ shard: '1/4' })))).toEqual([]);
    expect(changedOptions(effectiveOptions(cfg({})), effectiveOptions(cfg({ shard: '0/1' })))).toEqual(['shard']);
    expect(effectiveOptions(cfg({ shard: ' 3/ 8' }))['shard']).toBe('3/8');
    expect(changedOptions(effectiveOptions(cfg({ order: 'user' })), effectiveOptions(cfg({ order: 'input' })))).toEqual(['order']);
    expect(changedOptions(effectiveOptions(cfg({ sortMemory: '32MB' })), effectiveOptions(cfg({ sortMemory: '1GB' })))).toEqual([]);
  });

  it('bad values are configuration errors listed with the others', () => {
    expect(() => cfg({ shard: '4/4', order: 'time', sortMemory: 'lots' })).toThrow(
      /order: expected user or input[\s\S]*sort-memory: expected a size[\s\S]*shard: the shard index must be from 0 to 3/,
    );
  });
});
