import type { DispatcherHooks } from './dispatcher-options.js';
import { type Job, QUEUED } from './job.js';

/**
 * `maxInFlight` as a gate: a job takes a handler slot or waits in a FIFO queue. When the last slot is
 * taken, reading from the sockets pauses (back-pressure reaches the gateway through TCP); it resumes
 * once a slot is free and nothing waits.
 */
export class InFlightGate {
  #running = 0;
  #paused = false;
  readonly #queue: Job[] = [];

  constructor(
    private readonly max: number,
    private readonly hooks: Pick<DispatcherHooks, 'pauseReading' | 'resumeReading'>,
  ) {}

  /** Handlers running (slots taken). */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Takes a slot for `job` (true: run it now) or queues it (false). */
  enter(job: Job): boolean {
    if (this.#running >= this.max) {
      this.#queue.push(job);
      return false;
    }
    this.#take();
    return true;
  }

  /** Gives a slot back; take the queued jobs that can run now with {@link next}. */
  leave(): void {
    this.#running--;
  }

  /**
   * The next queued job still waiting, with a slot taken for it; undefined when none can run now (and
   * then reading resumes if there is room and nothing waits).
   */
  next(): Job | undefined {
    while (this.#running < this.max) {
      const job = this.#queue.shift();
      if (job === undefined) break;
      if (job.state !== QUEUED) continue;
      this.#take();
      return job;
    }
    if (this.#paused && this.#running < this.max && this.#queue.length === 0) {
      this.#paused = false;
      this.hooks.resumeReading();
    }
    return undefined;
  }

  /** Takes out the waiting jobs `drop` picks (and those no longer waiting); returns the picked ones. */
  dropQueued(drop: (job: Job) => boolean): Job[] {
    const dropped: Job[] = [];
    let kept = 0;
    for (const job of this.#queue) {
      if (job.state !== QUEUED) continue;
      if (drop(job)) dropped.push(job);
      else this.#queue[kept++] = job;
    }
    this.#queue.length = kept;
    return dropped;
  }

  #take(): void {
    this.#running++;
    if (this.#running >= this.max && !this.#paused) {
      this.#paused = true;
      this.hooks.pauseReading();
    }
  }
}
