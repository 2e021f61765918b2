import { z } from 'zod';

/**
 * The environment the CLI reads (the library never reads process.env). Validated once, with an
 * error message naming the variable.
 */
const envSchema = z.object({
  DINGTALK_CLIENT_ID: z.string().min(1).optional(),
  DINGTALK_CLIENT_SECRET: z.string().min(1).optional(),
  DINGTALK_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.dingtalk.com'),
  DINGTALK_SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(8720),
  /** `sandbox`/`dev`: extra `Host` names the sandbox serves, comma-separated (`name` or `name:port`). */
  DINGTALK_SANDBOX_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== ''),
    ),
  DINGTALK_STATE: z.string().default('memory:'),
  DINGTALK_TOKEN_KEY: z.string().min(1).optional(),
  /** `start`: port of the ops endpoints (/metrics, /healthz, /readyz); unset = off. */
  DINGTALK_OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** `start`: interface of the ops endpoints. */
  DINGTALK_OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * `start`: the public URL of the bot's consent callback (机器人授权回调), served on the ops port at its
   * path; register it as a redirect URL of the app. Unset: a bot cannot ask senders to authorize.
   */
  DINGTALK_BOT_CONSENT_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** `start`: the legacy OpenAPI host (default https://oapi.dingtalk.com, or DINGTALK_API_BASE when that is not DingTalk's). */
  DINGTALK_OAPI_BASE: z.url({ protocol: /^https?$/ }).optional(),
  /** `dev`/`start`: port of the MCP server (`--mcp-port` wins); `mcp call`: the port it calls. */
  DINGTALK_MCP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** `start --mcp-port` and bots: DingTalk's login (default: DINGTALK_API_BASE when that is not DingTalk, i.e. a sandbox). */
  DINGTALK_LOGIN_BASE: z.url({ protocol: /^https?$/ }).optional(),
  /** Any non-empty value turns colour off in pretty logs (https://no-color.org). */
  NO_COLOR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type CliEnv = z.output<typeof envSchema>;

export class EnvError extends Error {}

export function readEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new EnvError(`invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
