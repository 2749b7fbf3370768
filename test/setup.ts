import fc from 'fast-check';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { tempDirs } from './helpers/run.js';

const seed = Number(process.env.FC_SEED);
fc.configureGlobal({ seed: Number.isFinite(seed) ? seed : Date.now() });

beforeEach(() => tempDirs.testStarts());
afterEach(() => tempDirs.testEnded());
afterAll(() => tempDirs.fileEnded());
