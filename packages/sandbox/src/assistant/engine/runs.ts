import type { Logger } from '@dingtalk-skills/sdk';
import type { ConversationStore } from './conversations.js';
import type { InvokeOutcome, RunState, StepInput } from './invocation.js';
import type { ErrorStepCode, InvocationStatus, TranscriptStep } from './transcript.js';

/** Writes a run's steps into its conversation's transcript and settles its summary. */
export class RunBook {
  readonly #store: ConversationStore;
  readonly #clock: { now(): number };
  readonly #log: Logger;

  constructor(store: ConversationStore, clock: { now(): number }, log: Logger) {
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
  }

  step(run: RunState, step: StepInput): void {
    this.#store.append(run.conversation, {
      ...step,
      at: this.#clock.now(),
      invocationId: run.id,
    } as TranscriptStep);
  }

  /** Ends the run with an `error` step. */
  fail(run: RunState, code: ErrorStepCode, message: string, status?: number, body?: unknown): void {
    this.step(run, {
      step: 'error',
      code,
      message,
      ...(status !== undefined ? { status } : {}),
      ...(body !== undefined ? { body } : {}),
    });
    this.settle(run, 'done');
    this.#log.info(
      { invocationId: run.id, operationId: run.found.action.operationId, userId: run.user.userId, code },
      'invocation ended with an error',
    );
  }

  settle(run: RunState, status: InvocationStatus): void {
    this.#store.settle(run.conversation, run.summary, status);
  }

  /** What the invocation came to so far, with this invocation's steps. */
  outcome(run: RunState): InvokeOutcome {
    const out: InvokeOutcome = {
      conversationId: run.conversation.id,
      invocationId: run.id,
      status: run.summary.status === 'awaiting_consent' ? 'awaiting_consent' : 'done',
      transcript: run.conversation.transcript.filter((s) => s.invocationId === run.id),
    };
    if (run.consentUrl !== undefined) out.consentUrl = run.consentUrl;
    return out;
  }
}
