import { BackfillError } from '../errors.js';

/**
 * `--shard auto`: the index and count from the batch engine that runs this container, as "i/N".
 * - Kubernetes Indexed Job: JOB_COMPLETION_INDEX; N from --shard-count or LP_BACKFILL_SHARD_COUNT
 *   (Kubernetes does not expose the completions count to the container).
 * - Cloud Run Job: CLOUD_RUN_TASK_INDEX, CLOUD_RUN_TASK_COUNT.
 * - AWS Batch array job: AWS_BATCH_JOB_ARRAY_INDEX, AWS_BATCH_JOB_ARRAY_SIZE.
 * --shard-count and LP_BACKFILL_SHARD_COUNT may also be given with the others; every count given
 * must agree. Nothing set, two engines disagreeing, or an index outside 0..N−1: a usage error.
 */
export function resolveShardAuto(env: Readonly<Record<string, string | undefined>>, shardCount: number | undefined): string {
  const engines = [
    { name: 'Kubernetes Indexed Job', index: 'JOB_COMPLETION_INDEX', count: undefined },
    { name: 'Cloud Run Job', index: 'CLOUD_RUN_TASK_INDEX', count: 'CLOUD_RUN_TASK_COUNT' },
    { name: 'AWS Batch array job', index: 'AWS_BATCH_JOB_ARRAY_INDEX', count: 'AWS_BATCH_JOB_ARRAY_SIZE' },
  ] as const;
  const hint = 'Run under one of them, or give the shard yourself: --shard <i>/<N> (0-based index).';
  const whole = (text: string, what: string): number => {
    if (!/^\s*\d+\s*$/.test(text))
      throw new BackfillError('CONFIG_INVALID', `shard: --shard auto read ${what} = "${text}", which is not a whole number ≥ 0`, hint);
    return Number(text);
  };
  const found = engines.filter((e) => env[e.index] !== undefined && env[e.index] !== '');
  if (found.length === 0) {
    throw new BackfillError(
      'CONFIG_INVALID',
      `shard: --shard auto found no batch engine in the environment: none of ${engines.map((e) => e.index).join(', ')} is set`,
      hint,
    );
  }
  const resolved = found.map((e) => {
    const index = whole(env[e.index]!, e.index);
    const counts: { from: string; n: number }[] = [];
    if (e.count !== undefined && env[e.count] !== undefined && env[e.count] !== '') counts.push({ from: e.count, n: whole(env[e.count]!, e.count) });
    if (shardCount !== undefined) counts.push({ from: '--shard-count', n: shardCount });
    const fromEnv = env['LP_BACKFILL_SHARD_COUNT'];
    if (fromEnv !== undefined && fromEnv !== '') counts.push({ from: 'LP_BACKFILL_SHARD_COUNT', n: whole(fromEnv, 'LP_BACKFILL_SHARD_COUNT') });
    if (counts.length === 0) {
      throw new BackfillError(
        'CONFIG_INVALID',
        `shard: --shard auto found ${e.name} (${e.index}=${index}) but not the number of shards`,
        `Give it with --shard-count <N> or LP_BACKFILL_SHARD_COUNT=<N> (the Job's completions / task count).`,
      );
    }
    const n = counts[0]!.n;
    const other = counts.find((c) => c.n !== n);
    if (other !== undefined) {
      throw new BackfillError(
        'CONFIG_INVALID',
        `shard: --shard auto read inconsistent shard counts: ${counts.map((c) => `${c.from}=${c.n}`).join(', ')}`,
        'Give one count, the number of tasks the engine runs.',
      );
    }
    if (!Number.isSafeInteger(n) || n < 1)
      throw new BackfillError('CONFIG_INVALID', `shard: --shard auto read a shard count of ${n} (${counts[0]!.from}); it must be ≥ 1`, hint);
    if (index >= n) {
      throw new BackfillError(
        'CONFIG_INVALID',
        `shard: --shard auto read index ${index} (${e.index}) but only ${n} shard(s) (${counts.map((c) => c.from).join(', ')}): the index must be from 0 to ${n - 1}`,
        'Make the shard count equal to the number of tasks the engine runs.',
      );
    }
    return { engine: e, text: `${index}/${n}` };
  });
  const first = resolved[0]!;
  const disagree = resolved.find((r) => r.text !== first.text);
  if (disagree !== undefined) {
    throw new BackfillError(
      'CONFIG_INVALID',
      `shard: --shard auto found two batch engines that disagree: ${first.engine.index} gives ${first.text}, ${disagree.engine.index} gives ${disagree.text}`,
      hint,
    );
  }
  return first.text;
}
