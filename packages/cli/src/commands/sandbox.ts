import { createSandbox, SEED_APP, SEED_CORP, SEED_USERS } from '@dingtalk-skills/sandbox';
import { readEnv } from '../env.js';
import { chooseLogOutput, cliLogger, type LogFormat } from '../logger.js';
import { onShutdown } from '../signals.js';
import { resolveTls, type TlsFlags, tlsLines } from './tls.js';

export interface SandboxCommandOptions extends TlsFlags {
  host: string;
  port?: number;
  ephemeral?: boolean;
  db?: string;
  /** `--callback-redelivery`: delays before each redelivery of an unanswered CALLBACK. */
  callbackRedelivery?: number[];
  /** `--log-format`; default pretty on a terminal, NDJSON otherwise. */
  logFormat?: LogFormat;
}

/** Lines describing the seed, printed by `sandbox` and `dev`. */
export function seedLines(): string[] {
  return [
    `  app credentials  clientId ${SEED_APP.clientId}  clientSecret ${SEED_APP.clientSecret}`,
    `  org              corpId ${SEED_CORP.corpId}`,
    `  users            ${SEED_USERS.map((u) => `${u.userId} ${u.name} (unionId ${u.unionId})`).join(', ')}`,
  ];
}

/** `dingtalk-skills sandbox`: the sandbox alone, for apps written with any SDK. */
export async function sandboxCommand(options: SandboxCommandOptions): Promise<void> {
  const env = readEnv();
  const logger = cliLogger(
    env.LOG_LEVEL,
    [SEED_APP.clientSecret],
    'sandbox',
    chooseLogOutput(options.logFormat, env.NO_COLOR),
  );
  const tls = resolveTls(options, options.host);
  const sandbox = await createSandbox({
    ...(tls.tls ? { tls: tls.tls } : {}),
    port: options.port ?? env.DINGTALK_SANDBOX_PORT,
    host: options.host,
    allowedHosts: env.DINGTALK_SANDBOX_ALLOWED_HOSTS,
    logger,
    ...(options.ephemeral ? { ephemeral: true } : {}),
    ...(options.db ? { dbPath: options.db } : {}),
    ...(options.callbackRedelivery ? { callbackRedelivery: options.callbackRedelivery } : {}),
  });
  const lines = [
    'dingtalk-skills sandbox: a local DingTalk (钉钉本地沙箱)',
    `  base URL         ${sandbox.url}/`,
    `  API base         DINGTALK_API_BASE=${sandbox.url}  (OpenAPI /v1.0/..., Stream gateway /v1.0/gateway/connections/open)`,
    `  OAuth consent    ${sandbox.url}/oauth2/auth`,
    `  control API      ${sandbox.url}/sandbox/`,
    ...tlsLines(tls),
    ...seedLines(),
    '  stop with Ctrl+C',
  ];
  onShutdown(
    () => sandbox.close(),
    (m) => process.stderr.write(`sandbox: ${m}\n`),
  );
  // Announced only once a signal stops it gracefully (see start.ts).
  process.stdout.write(`${lines.join('\n')}\n`);
}
