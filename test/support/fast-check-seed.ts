/**
 * Vitest setup for the property tests (fast-check). `FC_SEED=<n>` replays one seed (the number a failure
 * prints); under CI (`.ci/run` exports CI=true) every run uses one fixed seed, so a gate is reproducible;
 * elsewhere each run draws new seeds and keeps exploring.
 */
import fc from 'fast-check';

/** The seed CI uses. Change it on purpose (and run the suite) to sample new inputs in CI. */
export const CI_SEED = 20261128;

const fromEnv = process.env.FC_SEED;
const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : process.env.CI ? CI_SEED : undefined;
if (seed !== undefined) {
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got "${fromEnv}"`);
  fc.configureGlobal({ seed });
}
