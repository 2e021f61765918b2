import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's Redis server binary; the tests use the real server, never a mock. */
export const REDIS_SERVER_BIN = '/usr/bin/redis-server';
export const REDIS_INSTALL_COMMAND = 'apt-get install -y redis-server';

/** A running redis-server on a loopback port, for one test file. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The server's process id (to freeze it with SIGSTOP in an outage test). */
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its working folder. */
  stop(): Promise<void>;
}

/** A port the OS just handed out on 127.0.0.1 (free now; another process could take it, hence retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket; true when the server answers +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startOnce(dir: string): Promise<RedisServerHandle | { failed: string }> {
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER_BIN,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      process.off('exit', killOnExit);
      return { failed: output.trim().split('\n').slice(-5).join('\n') };
    }
    if (await ping(port)) {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        pid: child.pid!,
        stop: async () => {
          process.off('exit', killOnExit);
          if (child.exitCode === null && child.signalCode === null) {
            // A frozen (SIGSTOPped) server would never act on SIGTERM.
            child.kill('SIGCONT');
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited(child);
            clearTimeout(timer);
          }
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  await exited(child);
  process.off('exit', killOnExit);
  return { failed: `no PONG within 10 s on port ${port}\n${output}` };
}

/**
 * Starts `/usr/bin/redis-server` on a free loopback port with persistence off, and waits until it
 * answers PING. Fails with the install command when Redis is not installed.
 */
export async function startRedisServer(): Promise<RedisServerHandle> {
  if (!existsSync(REDIS_SERVER_BIN))
    throw new Error(
      `${REDIS_SERVER_BIN} is missing; the Redis tests need it. Install with: ${REDIS_INSTALL_COMMAND}`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'dtk-redis-'));
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await startOnce(dir);
    if (!('failed' in started)) {
      return {
        ...started,
        stop: async () => {
          await started.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    last = started.failed;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not start after 3 tries:\n${last}`);
}
