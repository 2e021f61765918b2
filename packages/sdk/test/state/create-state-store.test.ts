import { join } from 'node:path';
import { type DingTalkSkillsError, isCodedError, silentLogger } from '@dingtalk-skills/sdk';
import { createStateStore, parseStateStoreUrl } from '@dingtalk-skills/sdk/state';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../support/capture-logger.js';
import { StateKit } from './state-kit.js';

const kit = new StateKit();
afterAll(() => kit.closeAll());

describe('parseStateStoreUrl', () => {
  it.each([
    ['memory:', { kind: 'memory' }],
    ['memory://', { kind: 'memory' }],
    ['  MEMORY:  ', { kind: 'memory' }],
    ['sqlite:./data/state.db', { kind: 'sqlite', path: './data/state.db' }],
    ['sqlite:/var/lib/app/state.db', { kind: 'sqlite', path: '/var/lib/app/state.db' }],
    ['sqlite:///var/lib/app/state.db', { kind: 'sqlite', path: '/var/lib/app/state.db' }],
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
    ['redis://127.0.0.1:6379', { kind: 'redis', url: 'redis://127.0.0.1:6379' }],
    ['redis://:pw@redis.internal:6380/3', { kind: 'redis', url: 'redis://:pw@redis.internal:6380/3' }],
    ['rediss://cache.example:6380', { kind: 'redis', url: 'rediss://cache.example:6380' }],
  ])('%s', (url, expected) => {
    expect(parseStateStoreUrl(url)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['postgres://localhost/db', 'unsupported'],
    ['http://127.0.0.1:6379', 'unsupported'],
    ['./state.db', 'unsupported'],
    ['memory', 'unsupported'],
    ['memory:extra', 'takes nothing'],
    ['sqlite:', 'needs a file path'],
    ['sqlite://', 'needs a file path'],
    ['redis://', 'needs a host'],
    ['redis://host/abc', 'database number'],
    ['redis://host:notaport', 'not a valid URL'],
  ])('%j fails with ERR_CONFIG (%s)', (url, words) => {
    let err: unknown;
    try {
      parseStateStoreUrl(url);
    } catch (e) {
      err = e;
    }
    expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
    expect((err as DingTalkSkillsError).message).toContain(words);
  });

  it('never puts a Redis password in the error', () => {
    for (const url of ['redis://:s3cretpass@host/abc', 'redis://user:s3cretpass@host:bad']) {
      let err: unknown;
      try {
        parseStateStoreUrl(url);
      } catch (e) {
        err = e;
      }
      expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
      expect((err as Error).message).not.toContain('s3cretpass');
    }
  });
});

describe('createStateStore', () => {
  it('opens each kind, with the prefix given', async () => {
    const logs = new CaptureLogger();
    const memory = await createStateStore('memory:', { logger: logs.logger });
    expect(memory.kind).toBe('memory');
    expect(logs.find('one process')).toHaveLength(1);
    const sqlite = await createStateStore(`sqlite:${join(kit.dir, 'created.db')}`, {
      logger: silentLogger(),
    });
    expect(sqlite.kind).toBe('sqlite');
    const redis = await createStateStore(await kit.redisUrl(), {
      logger: silentLogger(),
      prefix: 'created:',
    });
    expect(redis.kind).toBe('redis');
    for (const s of [memory, sqlite, redis]) {
      expect(await s.setIfAbsent('k', 'v')).toBe(true);
      expect(await s.get('k')).toBe('v');
      await s.close();
    }
  });

  it('an unreachable Redis fails with ERR_STATE at creation, and leaves nothing running', async () => {
    const logs = new CaptureLogger();
    const err = await createStateStore('redis://:topsecret99@127.0.0.1:1', { logger: logs.logger }).catch(
      (e: unknown) => e,
    );
    expect(isCodedError(err, 'ERR_STATE')).toBe(true);
    expect((err as Error).message).toMatch(/ECONNREFUSED|closed/);
    expect((err as Error).message).not.toContain('topsecret99');
    expect(logs.all()).not.toContain('topsecret99');
  });
});
