import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from '../../src/metrics/hot-series.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.1, 1, 10];

/** Exposition lines without HELP/TYPE, each with its labels sorted, so label order does not matter. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(l);
      if (!m) throw new Error(`unparsable line ${l}`);
      const labels = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
      return `${m[1]}{${labels}} ${m[3]}`;
    })
    .sort();
}

describe('HotCounter and HotHistogram: the per-message series, exposed as prom-client exposes its own', () => {
  it('render exactly what prom-client Counter and Histogram render for the same observations', async () => {
    const label = fc.constantFrom('a', 'b', 'c');
    const obs = fc.array(
      fc.tuple(
        label,
        label,
        fc.oneof(fc.constantFrom(0, ...BUCKETS), fc.double({ min: 0, max: 30, noNaN: true })),
      ),
      {
        maxLength: 200,
      },
    );
    await fc.assert(
      fc.asyncProperty(obs, async (observations) => {
        const theirs = new Registry();
        const ours = new Registry();
        theirs.setDefaultLabels({ instance: 'i1' });
        ours.setDefaultLabels({ instance: 'i1' });
        const cfg = (registers: Registry[]) => ({
          name: 'x_seconds',
          help: 'help text',
          labelNames: ['skill', 'source'],
          buckets: BUCKETS,
          registers,
        });
        const h1 = new Histogram(cfg([theirs]));
        const counterCfg = (registers: Registry[]) => ({
          name: 'x_total',
          help: 'help text',
          labelNames: ['skill', 'source'],
          registers,
        });
        const c1 = new Counter(counterCfg([theirs]));
        const h2 = new HotHistogram(cfg([ours]));
        const c2 = new HotCounter(counterCfg([ours]));
        for (const [a, b, v] of observations) {
          h1.labels(a, b).observe(v);
          c1.labels(a, b).inc();
          h2.labels(a, b).observe(v);
          c2.labels(a, b).inc();
        }
        const t = await theirs.metrics();
        const o = await ours.metrics();
        expect(samples(o)).toEqual(samples(t));
        // HELP and TYPE lines are the same too.
        const heads = (s: string) => s.split('\n').filter((l) => l.startsWith('#'));
        expect(heads(o)).toEqual(heads(t));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a wrong number of label values and a value that is not a finite number', () => {
    const registry = new Registry();
    const h = new HotHistogram({
      name: 'h',
      help: 'h',
      labelNames: ['a'],
      buckets: BUCKETS,
      registers: [registry],
    });
    expect(() => h.labels('x', 'y')).toThrow(/expected 1 label values/);
    expect(() => h.labels('x').observe(Number.NaN)).toThrow(TypeError);
    const c = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a'], registers: [new Registry()] });
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number])
      expect(() => c.labels('x').inc(bad)).toThrow(TypeError);
  });

  it('a series kept from labels() reports again after resetMetrics, from zero', async () => {
    const registry = new Registry();
    const c = new HotCounter({ name: 'k_total', help: 'k', labelNames: ['a'], registers: [registry] });
    const h = new HotHistogram({
      name: 'k_seconds',
      help: 'k',
      labelNames: ['a'],
      buckets: BUCKETS,
      registers: [registry],
    });
    const kept = c.labels('x');
    const keptH = h.labels('x');
    kept.inc(5);
    keptH.observe(0.5);
    registry.resetMetrics();
    const afterReset = await registry.metrics();
    expect(afterReset).not.toContain('k_total{a="x"}');
    expect(afterReset).not.toContain('k_seconds_count{a="x"}');
    kept.inc(2);
    keptH.observe(0.25);
    const again = await registry.metrics();
    expect(again).toContain('k_total{a="x"} 2');
    expect(again).toContain('k_seconds_count{a="x"} 1');
    expect(again).toContain('k_seconds_sum{a="x"} 0.25');
  });

  it('resetMetrics forgets the series; a name already registered is refused as prom-client refuses it', async () => {
    const registry = new Registry();
    const c = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a'], registers: [registry] });
    c.labels('x').inc(3);
    expect(await registry.metrics()).toContain('c_total{a="x"} 3');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('c_total{a="x"}');
    expect(() => new Counter({ name: 'c_total', help: 'c', registers: [registry] })).toThrow(
      /already been registered/,
    );
  });
});
