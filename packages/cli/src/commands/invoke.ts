import { trimTrailingSlashes } from '@dingtalk-skills/sdk/protocol';
import { readEnv } from '../env.js';
import { ExitCode, SandboxUnreachableError, UsageError } from '../exit-codes.js';

/** One step of an assistant transcript, as the sandbox records it. */
export interface TranscriptStep {
  step: 'invoke' | 'auth_card' | 'consent' | 'result' | 'error';
  [key: string]: unknown;
}

interface InvokeAnswer {
  conversationId: string;
  status: 'done' | 'awaiting_consent';
  transcript: TranscriptStep[];
}

export interface InvokeOptions {
  user: string;
  data: string;
  autoConsent?: boolean;
  json?: boolean;
  sandbox?: string;
}

function describeStep(s: TranscriptStep): string {
  switch (s.step) {
    case 'invoke':
      return `→ invoke ${String(s.operationId ?? '')} as ${String(s.userId ?? '')} ${JSON.stringify(s.params ?? {})}`;
    case 'auth_card':
      return `🔐 authorization card (授权卡片, ${String(s.trigger ?? 'skill')}-triggered): ${String(s.code ?? '')}${Array.isArray(s.requestedScopes) ? ` scopes ${s.requestedScopes.join(' ')}` : ''}${s.consentUrl ? `\n   consent at ${String(s.consentUrl)}` : ''}${s.warning ? `\n⚠ warning: ${String(s.warning)}` : ''}`;
    case 'consent':
      return `✔ consent: ${String(s.decision ?? s.outcome ?? 'approved')}${s.scopes ? ` ${JSON.stringify(s.scopes)}` : ''}`;
    case 'result':
      return `✅ result ${JSON.stringify(s.body)}`;
    case 'error':
      return `✖ error: ${String(s.message ?? s.code ?? '')}`;
    default:
      return JSON.stringify(s);
  }
}

/**
 * `dingtalk-skills invoke <skill> --user <id> --data <json>`: runs one skill through a running sandbox's
 * assistant as that user and prints the transcript. Exit code 0 on a result, 3 when the user must
 * still consent (no --auto-consent), 1 on an error step, 2 for bad --data, 5 when no sandbox answers.
 */
export async function invokeCommand(skill: string, options: InvokeOptions): Promise<void> {
  let params: unknown;
  try {
    params = JSON.parse(options.data);
  } catch (err) {
    throw new UsageError(`--data must be JSON: ${(err as Error).message}`);
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw new UsageError('--data must be a JSON object');
  const base = trimTrailingSlashes(options.sandbox ?? `http://127.0.0.1:${readEnv().DINGTALK_SANDBOX_PORT}`);
  let res: Response;
  try {
    res = await fetch(`${base}/sandbox/assistant/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        operationId: skill,
        userId: options.user,
        params,
        autoConsent: options.autoConsent === true,
      }),
    });
  } catch (err) {
    throw new SandboxUnreachableError(
      `no sandbox answers at ${base} (start one with: npx dingtalk-skills dev): ${(err as Error).message}`,
    );
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`the sandbox refused the invocation (${res.status}): ${text}`);
  const answer = JSON.parse(text) as InvokeAnswer;
  if (options.json) process.stdout.write(`${JSON.stringify(answer.transcript)}\n`);
  else {
    for (const step of answer.transcript) process.stdout.write(`${describeStep(step)}\n`);
    if (answer.status === 'awaiting_consent')
      process.stdout.write('(waiting for consent: open the URL above, or pass --auto-consent)\n');
  }
  const last = answer.transcript.at(-1);
  process.exitCode =
    answer.status === 'awaiting_consent'
      ? ExitCode.AwaitingConsent
      : last?.step === 'result'
        ? ExitCode.Ok
        : ExitCode.Failed;
}
