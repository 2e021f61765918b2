import { Writable } from 'node:stream';
import { createLogger } from '@dingtalk-skills/sdk';
import { expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { startPlatform, userTokens } from './harness.js';

test('a full token flow logs no token, code or secret', async () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', destination });
  const h = await startPlatform({ logger });
  try {
    const t = await userTokens(h, 'zhangsan', ['openid', 'Todo.PersonalTodo.Write']);
    const refreshed = await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: {
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        refreshToken: t.refreshToken,
        grantType: 'refresh_token',
      },
    });
    await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: {
        clientId: SEED_APP.clientId,
        clientSecret: 'wrong',
        code: t.code,
        grantType: 'authorization_code',
      },
    });
    await h.call('/v1.0/todo/users/me/personalTasks', {
      method: 'POST',
      token: refreshed.body.accessToken,
      json: { subject: 'x', executorIds: ['union-zhangsan'] },
    });
    await h.call('/v1.0/contact/users/me', { token: t.accessToken.replace(/.$/, '0') });
    const app = await h.call(`/gettoken?appkey=${SEED_APP.clientId}&appsecret=${SEED_APP.clientSecret}`);
    const log = lines.join('');
    expect(log).toContain('code exchanged for user token');
    expect(log).toContain('user token refreshed');
    for (const secret of [
      t.accessToken,
      t.refreshToken,
      t.code,
      refreshed.body.accessToken,
      refreshed.body.refreshToken,
      app.body.access_token,
      SEED_APP.clientSecret,
    ])
      expect(log).not.toContain(secret);
  } finally {
    await h.close();
  }
});
