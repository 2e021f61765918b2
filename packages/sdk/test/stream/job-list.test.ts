import { describe, expect, it } from 'vitest';
import type { StreamConnection } from '../../src/stream/connection.js';
import type { CallbackMessage } from '../../src/stream/handlers.js';
import { CallbackJob, type Job } from '../../src/stream/job.js';
import { JobList } from '../../src/stream/job-list.js';

const conn = {} as StreamConnection;
const message = { topic: 't', messageId: 'm', headers: {}, data: '{}' } as CallbackMessage;
const registration = { topic: 't', handler: () => null, timeoutMs: 1, onTimeout: undefined };
const job = (id: string): Job => new CallbackJob(conn, id, 0, message, registration);
const ids = (list: JobList) => [...list].map((j) => j.messageId);

describe('JobList', () => {
  it('keeps admission order; delete unlinks from the head, the middle and the tail', () => {
    const list = new JobList();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(job) as [Job, Job, Job, Job];
    for (const j of [a, b, c, d]) list.add(j);
    expect(ids(list)).toEqual(['a', 'b', 'c', 'd']);
    expect(list.delete(b)).toBe(true);
    expect(ids(list)).toEqual(['a', 'c', 'd']);
    expect(list.delete(a)).toBe(true);
    expect(list.delete(d)).toBe(true);
    expect(ids(list)).toEqual(['c']);
    expect(list.size).toBe(1);
    list.add(a);
    expect(ids(list)).toEqual(['c', 'a']);
  });

  it('delete of a job not in the list is false and changes nothing; a removed job keeps no links', () => {
    const list = new JobList();
    const [a, b, c] = ['a', 'b', 'c'].map(job) as [Job, Job, Job];
    list.add(a);
    list.add(b);
    list.add(c);
    list.delete(b);
    expect(list.delete(b)).toBe(false);
    expect(b.prev).toBeUndefined();
    expect(b.next).toBeUndefined();
    expect(list.size).toBe(2);
    expect(ids(list)).toEqual(['a', 'c']);
  });

  it('iterating while deleting (like the deadline sweep) visits each listed job once and skips removed ones', () => {
    const list = new JobList();
    const jobs = ['a', 'b', 'c', 'd', 'e'].map(job);
    for (const j of jobs) list.add(j);
    const seen: string[] = [];
    for (const j of list) {
      seen.push(j.messageId);
      list.delete(j);
      if (j.messageId === 'b') list.delete(jobs[3]!); // removes 'd' before its turn
      if (j.messageId === 'c') list.add(job('late')); // added meanwhile: not visited
    }
    expect(seen).toEqual(['a', 'b', 'c', 'e']);
    expect(ids(list)).toEqual(['late']);
    expect(list.size).toBe(1);
  });
});
