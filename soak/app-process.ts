/**
 * The app's child process as the soak sees it: spawned with `--expose-gc`, watched for crashes (any exit
 * the soak did not ask for counts as one, and the app is started again), asked for memory and counters
 * over IPC, and stopped at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { AppProcessConfig, FromApp, ToApp } from './ipc.js';

/** One unexpected exit of the app process. */
export interface CrashRecord {
  at: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The uncaught error the app reported before dying, if any. */
  fatal: string | undefined;
  /** The last lines the app wrote to stderr. */
  stderrTail: string[];
}

/** What the soak does with what the app reports. */
export interface AppProcessHooks {
  onHandled(eventIds: string[]): void;
  onLink(up: boolean, at: number, reason: string): void;
  onCrash(crash: CrashRecord): void;
}

/** Log lines of the app by pino level name, plus lines that were not JSON. */
export type LogCounts = Record<string, number>;

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const TAIL = 40;
const START_TIMEOUT_MS = 30_000;
const MAX_RESTARTS = 5;

type Waiter = { type: FromApp['type']; resolve: (m: FromApp) => void; reject: (err: Error) => void };

/** Runs the app bundle in a child process and restarts it after a crash. */
export class AppProcess {
  readonly crashes: CrashRecord[] = [];
  readonly logCounts: LogCounts = {};
  readonly #bundle: string;
  readonly #config: AppProcessConfig;
  readonly #hooks: AppProcessHooks;
  #child: ChildProcess | undefined;
  #waiters: Waiter[] = [];
  #stderrTail: string[] = [];
  #partial = '';
  #fatal: string | undefined;
  #stopping = false;
  #starts = 0;
  #restart: Promise<void> | undefined;
  #ready = false;

  readonly #logFile: string | undefined;

  /** `logFile`: where to append every line the app writes to stderr (for diagnosis). */
  constructor(bundle: string, config: AppProcessConfig, hooks: AppProcessHooks, logFile?: string) {
    this.#logFile = logFile;
    this.#bundle = bundle;
    this.#config = config;
    this.#hooks = hooks;
  }

  /** How often the app was started (1 + restarts after crashes). */
  get starts(): number {
    return this.#starts;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the app and resolves once it is connected. */
  async start(): Promise<void> {
    this.#starts++;
    this.#ready = false;
    this.#fatal = undefined;
    const child = spawn(process.execPath, ['--expose-gc', this.#bundle], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, SOAK_APP_CONFIG: JSON.stringify(this.#config) },
    });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.#stderr(chunk));
    child.on('message', (raw: unknown) => this.#message(raw as FromApp));
    child.once('exit', (code, signal) => this.#exited(child, code, signal));
    await this.#next('ready', START_TIMEOUT_MS);
    this.#ready = true;
  }

  /** Memory after GC, as the app measures it. */
  async measure(): Promise<Extract<FromApp, { type: 'memory' }>> {
    return (await this.#ask({ type: 'measure' }, 'memory')) as Extract<FromApp, { type: 'memory' }>;
  }

  async counters(): Promise<Extract<FromApp, { type: 'counters' }>> {
    return (await this.#ask({ type: 'counters' }, 'counters')) as Extract<FromApp, { type: 'counters' }>;
  }

  /** Waits for a restart after a crash, if one is under way. */
  async settled(): Promise<void> {
    await this.#restart;
  }

  /** Asks the app to stop (drain, close) and waits for it to exit; kills it after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.#stopping = true;
    await this.#restart?.catch(() => undefined);
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' } satisfies ToApp);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  #ask(message: ToApp, answer: FromApp['type']): Promise<FromApp> {
    const child = this.#child;
    if (child === undefined || !child.connected) return Promise.reject(new Error('the app is not running'));
    const reply = this.#next(answer, 10_000);
    child.send(message);
    return reply;
  }

  #next(type: FromApp['type'], timeoutMs: number): Promise<FromApp> {
    return new Promise<FromApp>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(`the app did not send '${type}' within ${timeoutMs} ms\n${this.#stderrTail.join('\n')}`),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  #message(m: FromApp): void {
    if (m.type === 'handled') this.#hooks.onHandled(m.eventIds);
    else if (m.type === 'link') this.#hooks.onLink(m.up, m.at, m.reason);
    else if (m.type === 'fatal') this.#fatal = m.error;
    const waiter = this.#waiters.find((w) => w.type === m.type);
    if (waiter) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(m);
    }
  }

  #stderr(chunk: string): void {
    if (this.#logFile !== undefined) appendFileSync(this.#logFile, chunk);
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      let level = 'text';
      try {
        const parsed = JSON.parse(line) as { level?: number };
        level = LEVELS[parsed.level ?? 0] ?? 'text';
      } catch {
        // A line that is not pino JSON (e.g. Node printing an uncaught error) is counted as `text`.
        level = 'text';
      }
      this.logCounts[level] = (this.logCounts[level] ?? 0) + 1;
      this.#stderrTail.push(line.length > 2_000 ? `${line.slice(0, 2_000)}...` : line);
      if (this.#stderrTail.length > TAIL) this.#stderrTail.shift();
    }
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters)
      w.reject(new Error(`the app exited (code ${code}, signal ${signal})\n${this.#stderrTail.join('\n')}`));
    if (this.#stopping && code === 0) return;
    if (this.#stopping && code === null) return;
    const crash: CrashRecord = {
      at: Date.now(),
      pid: child.pid,
      code,
      signal,
      fatal: this.#fatal,
      stderrTail: [...this.#stderrTail],
    };
    this.crashes.push(crash);
    this.#hooks.onCrash(crash);
    this.#hooks.onLink(false, crash.at, `crashed (code ${code}, signal ${signal})`);
    // Restart after a crash of a running app (not one that could not start), a bounded number of times.
    if (!this.#stopping && this.#ready && this.crashes.length <= MAX_RESTARTS)
      this.#restart = this.start().catch((err: unknown) => {
        this.crashes.push({ ...crash, at: Date.now(), fatal: `restart failed: ${String(err)}` });
      });
  }
}
