/**
 * Exit codes of the `dingtalk-skills` command (documented in `--help` and docs/cli.md).
 */
export const ExitCode = {
  /** Done: the command finished (or a long-running one stopped cleanly on SIGINT/SIGTERM). */
  Ok: 0,
  /** Failed while running: the skill answered an error (invoke), the sandbox refused, a port is taken, ... */
  Failed: 1,
  /** Usage: unknown command or option, a bad option value or argument, an invalid environment variable. */
  Usage: 2,
  /** `invoke`: the user must still consent (open the consent URL, or pass --auto-consent). */
  AwaitingConsent: 3,
  /** The app cannot be loaded (not found, syntax error, no app exported) or breaks DingTalk's rules. */
  InvalidApp: 4,
  /** `invoke`: no sandbox answers at the URL. */
  SandboxUnreachable: 5,
} as const;

/** The help text that lists the exit codes. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  done (long-running commands: stopped cleanly on Ctrl+C / SIGTERM)
  1  failed while running (invoke: the skill answered an error; a port in use; the sandbox refused)
  2  usage: unknown command or option, bad option value or argument, invalid environment variable
  3  invoke, mcp call: the user must still consent (open the consent URL or pass --auto-consent)
  4  the app cannot be loaded (not found, syntax error, no app exported) or breaks DingTalk's rules
  5  invoke: no sandbox answers at the URL (start one with: npx dingtalk-skills dev); mcp call: no MCP server answers`;

/** A bad argument or option value the parser could not see (e.g. `--data` that is not JSON): exit code 2. */
export class UsageError extends Error {}

/** No sandbox answers at the URL `invoke` was given: exit code 5. */
export class SandboxUnreachableError extends Error {}

/** The app cannot be found or loaded, or it breaks DingTalk's rules: exit code 4. */
export class AppLoadError extends Error {}

/** `--log-format`: `pretty` (coloured, human-readable) or `json` (NDJSON, one object a line). */
export type LogFormat = 'pretty' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];
