import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdentityMismatchError } from '../credentials/authorization-required.js';
import type { UserTokenManager } from '../credentials/user-token-manager.js';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/state-store.js';
import type { BotMessage } from './message.js';
import type { BotReply } from './reply.js';
import { scopeLabel } from './scope-labels.js';

/** How a bot asks a sender for consent and takes the answer. */
export interface BotConsentConfig {
  /**
   * Public URL of the consent callback (DingTalk redirects the browser here). The framework serves its
   * path: mount `running.bot.consentHandler()` (the ops server's `routes`) and register the URL as a
   * redirect URI of the app.
   */
  callbackUrl: string;
  /** DingTalk's login host (default `https://login.dingtalk.com`; the sandbox serves `/oauth2/auth` itself). */
  loginBase?: string;
  /** After consent: run the pending message once more (`rerun`, default), or ask the user to send it again. */
  afterConsent?: 'rerun' | 'askAgain';
  /** How long the Authorize button works (default 10 minutes). */
  ttlMs?: number;
  /**
   * Where the card of a group message goes: `conversation` (default: in the group, as a reply) or
   * `private` (to the sender's single chat with the bot through `oToMessages/batchSend`, with a short
   * note in the group), so the Authorize link is not shown to the whole group.
   */
  groupCard?: 'conversation' | 'private';
}

interface Pending {
  message: BotMessage;
  staffId: string;
  unionId: string;
  nick?: string;
  scopes: string[];
}

export interface BotConsentDeps {
  config: BotConsentConfig;
  clientId: string;
  appName: string;
  store: StateStore;
  tokens: UserTokenManager;
  logger: Logger;
  replyFor(message: BotMessage): BotReply;
  rerun(message: BotMessage): void;
}

const PAGE_STYLE = 'font-family:sans-serif;max-width:32rem;margin:3rem auto;line-height:1.5';

/**
 * The bot side of delegated consent: the authorization card (授权卡片) bound to the sender (single-use
 * `state`, expiry, pending message in the state store, one per sender), and the OAuth callback that
 * exchanges the code, files the token under the VERIFIED owner, refuses another account, and re-runs
 * the pending message once.
 */
export class BotConsent {
  readonly #d: BotConsentDeps;
  readonly #ttlMs: number;

  constructor(deps: BotConsentDeps) {
    this.#d = deps;
    this.#ttlMs = deps.config.ttlMs ?? 10 * 60_000;
  }

  #key(state: string): string {
    return `bot-consent:${this.#d.clientId}:${state}`;
  }

  #senderKey(staffId: string): string {
    return `bot-consent-sender:${this.#d.clientId}:${staffId}`;
  }

  /** Replies with the authorization card for the sender of `message`. */
  async ask(
    message: BotMessage,
    sender: { staffId: string; unionId: string },
    scopes: string[],
  ): Promise<void> {
    const state = randomBytes(24).toString('base64url');
    const pending: Pending = {
      message,
      staffId: sender.staffId,
      unionId: sender.unionId,
      scopes,
      ...(message.sender.nick ? { nick: message.sender.nick } : {}),
    };
    // One pending request per sender: a newer card replaces the older one (bounded by senders).
    const older = await this.#d.store.get(this.#senderKey(sender.staffId));
    if (older) await this.#d.store.delete(this.#key(older));
    await this.#d.store.set(this.#key(state), JSON.stringify(pending), this.#ttlMs);
    await this.#d.store.set(this.#senderKey(sender.staffId), state, this.#ttlMs);
    const { config, clientId, appName } = this.#d;
    const url = new URL('/oauth2/auth', config.loginBase ?? 'https://login.dingtalk.com');
    url.searchParams.set('redirect_uri', config.callbackUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('scope', ['openid', ...scopes.filter((s) => s !== 'openid')].join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('prompt', 'consent');
    url.searchParams.set('login_hint', sender.staffId);
    const minutes = Math.round(this.#ttlMs / 60_000);
    const who = message.sender.nick ?? sender.staffId;
    const card = {
      title: `授权 ${appName} · Authorize ${appName}`,
      text: [
        `### ${appName} 需要 ${who} 的授权 / needs ${who}'s authorization`,
        '以你的身份完成这个请求需要以下权限 / To do this as you, it needs:',
        ...['openid', ...scopes.filter((s) => s !== 'openid')].map((s) => `- ${scopeLabel(s)}`),
        '',
        `仅限 ${who} 本人使用，${minutes} 分钟内有效，只能使用一次。/ Only for ${who}; works once, for ${minutes} minutes.`,
      ].join('\n'),
      buttons: [{ title: '授权 Authorize', url: url.toString() }],
    };
    if (message.conversation.kind === 'group' && config.groupCard === 'private') {
      // The sender's single chat: no session webhook, so the reply goes through oToMessages/batchSend.
      const { sessionWebhook: _webhook, ...rest } = message;
      await this.#d.replyFor({ ...rest, conversation: { id: '', kind: 'single' } }).actionCard(card);
      await this.#d
        .replyFor(message)
        .text(`已私信 ${who} 授权卡片 / ${who}: the authorization card is in your chat with the bot.`, {
          at: [sender.staffId],
        });
      return;
    }
    await this.#d.replyFor(message).actionCard(card);
  }

  /** The consent callback: `GET <callback path>?code=&state=` (or `?error=access_denied&state=`). */
  handler(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
    return async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://callback');
      const state = url.searchParams.get('state') ?? '';
      const pending = state ? await this.#take(state) : undefined;
      if (!pending) {
        page(res, 400, '授权链接已失效 / This authorization link has expired or was already used.');
        return;
      }
      const reply = this.#d.replyFor(pending.message);
      const code = url.searchParams.get('code');
      if (!code) {
        await reply
          .text('已取消授权，未执行请求。/ Authorization declined: the request was not run.')
          .catch(this.#replyFailed);
        page(res, 200, '已取消授权 / Authorization declined.');
        return;
      }
      try {
        const handle = await this.#d.tokens.resolve({ authCode: code, unionId: pending.unionId });
        // A token whose owner DingTalk would not name is not filed under anyone (and not trusted).
        if (!handle?.persisted || handle.unionId !== pending.unionId)
          throw new DingTalkSkillsError(
            ErrorCode.OpenApi,
            'the consenting account could not be verified (contact.me gave no owner) or the code was not accepted',
          );
      } catch (err) {
        if (err instanceof IdentityMismatchError) {
          this.#d.logger.warn(
            { event: 'security.identity_mismatch', via: 'botConsent', sender: pending.staffId },
            'security: bot consent by another account than the sender; refused, nothing stored',
          );
          await reply
            .text(
              `授权账号与发送者不一致，已拒绝，未执行请求。请 ${pending.nick ?? pending.staffId} 本人重新发送消息并授权。/ Consent came from another account than the sender: refused, nothing was run. The sender should send the message again and authorize.`,
            )
            .catch(this.#replyFailed);
          page(
            res,
            403,
            '授权被拒绝：请使用发送消息的账号授权。/ Refused: please authorize with the account that sent the message.',
          );
          return;
        }
        this.#d.logger.error({ err: toError(err) }, 'bot consent: code exchange failed');
        page(
          res,
          502,
          '授权失败，请重新发送消息后再试 / Authorization failed: send the message again and retry.',
        );
        return;
      }
      this.#d.logger.info({ sender: pending.staffId }, 'bot consent: token filed under the sender');
      page(res, 200, '授权成功，可以返回钉钉了 / Authorized. You can go back to DingTalk.');
      if ((this.#d.config.afterConsent ?? 'rerun') === 'rerun') this.#d.rerun(pending.message);
      else
        await reply
          .text('已授权，请重新发送你的消息。/ Authorized: please send your message again.')
          .catch(this.#replyFailed);
    };
  }

  readonly #replyFailed = (err: unknown): void => {
    this.#d.logger.warn({ err: toError(err).message }, 'bot consent: could not reply in the chat');
  };

  /** Single use: only the caller whose compare-and-swap deletes the entry gets it. */
  async #take(state: string): Promise<Pending | undefined> {
    const key = this.#key(state);
    const raw = await this.#d.store.get(key);
    if (raw === null || !(await this.#d.store.compareAndSwap(key, raw, null))) return undefined;
    try {
      const pending = JSON.parse(raw) as Pending;
      await this.#d.store.delete(this.#senderKey(pending.staffId));
      return pending;
    } catch {
      return undefined;
    }
  }
}

function page(res: ServerResponse, status: number, text: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>DingTalk</title><p style="${PAGE_STYLE}">${text}</p>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}
