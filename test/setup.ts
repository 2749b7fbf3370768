import fc from 'fast-check';

const seed = Number(process.env.FC_SEED);
fc.configureGlobal({ seed: Number.isFinite(seed) ? seed : Date.now() });
