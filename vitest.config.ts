import { defineConfig } from 'vitest/config';

// One fast-check seed for the whole run, printed so any failure can be replayed with FC_SEED=<seed>.
const seed = process.env.FC_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
process.env.FC_SEED = seed;
if (process.env.VITEST_POOL_ID === undefined) console.log(`fast-check seed ${seed} (replay: FC_SEED=${seed} npm test)`);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
