/** A suite's numeric options: what the command line gave, else the suite's own defaults. */
import type { BenchOptions } from '../suite.js';

/** The numeric options of `BenchOptions`. */
type NumericOption = 'messages' | 'warmup' | 'window' | 'rate' | 'seconds' | 'rounds';

/** For each key of `defaults`: the option given on the command line, else its default. */
export function withDefaults<K extends NumericOption>(
  options: BenchOptions,
  defaults: Record<K, number>,
): Record<K, number> {
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as K[]) out[k] = options[k] ?? defaults[k];
  return out;
}
