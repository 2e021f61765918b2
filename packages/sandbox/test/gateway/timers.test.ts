import { describe, expect, it } from 'vitest';
import { SandboxClock } from '../../src/clock.js';
import { TimerSet } from '../../src/gateway/timers.js';

describe('TimerSet clock timers', () => {
  it('fire in due order when the clock passes them; the rest are re-armed; plain timers ignore the clock', () => {
    const clock = new SandboxClock();
    const timers = new TimerSet(clock);
    const fired: string[] = [];
    timers.clockTimeout(60_000, () => fired.push('b'));
    timers.clockTimeout(30_000, () => fired.push('a'));
    timers.clockTimeout(120_000, () => fired.push('c'));
    timers.timeout(30_000, () => fired.push('plain'));
    // Due times are clock readings (real time + offset): leave real time a margin of a second.
    clock.advance(59_000);
    expect(fired).toEqual(['a']);
    clock.advance(1_000);
    expect(fired).toEqual(['a', 'b']);
    expect(timers.size).toBe(2); // c and the plain one
    timers.close();
    expect(timers.size).toBe(0);
    clock.advance(1_000_000);
    expect(fired).toEqual(['a', 'b']); // closed: unsubscribed from the clock
  });

  it('a timer that throws does not keep the others from firing; the advance reports the error', () => {
    const clock = new SandboxClock();
    const timers = new TimerSet(clock);
    const fired: string[] = [];
    timers.clockTimeout(10_000, () => {
      throw new Error('boom');
    });
    timers.clockTimeout(20_000, () => fired.push('after'));
    expect(() => clock.advance(30_000)).toThrow('boom');
    expect(fired).toEqual(['after']);
    expect(timers.size).toBe(0);
    timers.close();
  });

  it('a timer cleared by an earlier one in the same advance does not fire', () => {
    const clock = new SandboxClock();
    const timers = new TimerSet(clock);
    const fired: string[] = [];
    const later = timers.clockTimeout(20_000, () => fired.push('later'));
    timers.clockTimeout(10_000, () => {
      fired.push('first');
      timers.clear(later);
    });
    clock.advance(30_000);
    expect(fired).toEqual(['first']);
    timers.close();
  });
});
