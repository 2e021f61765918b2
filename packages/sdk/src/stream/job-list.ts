import type { Job } from './job.js';

/**
 * The jobs that await a decision (queued or running), in admission order: a doubly linked list threaded
 * through the jobs' own `prev`/`next` fields, so adding and removing a job is O(1) and allocates nothing.
 *
 * It replaces a `Set<Job>`: with a Set, adding and deleting one short-lived job per message kept jobs (and
 * the frames they hold) alive across young-generation collections in V8, so they were promoted and the
 * client spent its time in GC (bench `stream`: scavenges of 2-5 ms, heap growing between full GCs,
 * ~1.5x the CPU per message). With the list, a job is garbage as soon as it is removed.
 */
export class JobList {
  private head: Job | undefined;
  private tail: Job | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends `job` (which must not be in a list). */
  add(job: Job): void {
    job.prev = this.tail;
    job.next = undefined;
    if (this.tail === undefined) this.head = job;
    else this.tail.next = job;
    this.tail = job;
    job.listed = true;
    this.count++;
  }

  /** Removes `job`; false when it is not in the list. Clears its links so it keeps no neighbour alive. */
  delete(job: Job): boolean {
    if (!job.listed) return false;
    const { prev, next } = job;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    job.prev = job.next = undefined;
    job.listed = false;
    this.count--;
    return true;
  }

  /**
   * The jobs listed now, oldest first. Safe to modify the list while iterating (like a Set: a job removed
   * before its turn is skipped; a job added meanwhile is not visited).
   */
  *[Symbol.iterator](): IterableIterator<Job> {
    const snapshot: Job[] = [];
    for (let job = this.head; job !== undefined; job = job.next) snapshot.push(job);
    for (const job of snapshot) if (job.listed) yield job;
  }
}
