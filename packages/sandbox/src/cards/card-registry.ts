import { EventEmitter } from 'node:events';
import type { SandboxClock } from '../clock.js';
import { CardQps } from './card-qps.js';

/** Where a card was delivered. */
export interface CardSpace {
  /** `IM_ROBOT` (the bot's single chat with `id`, a userId) or `IM_GROUP` (`id` = openConversationId). */
  spaceType: 'IM_ROBOT' | 'IM_GROUP';
  id: string;
  openSpaceId: string;
  deliveredAt: number;
}

/** One entry of a card's history (what the card API was asked, in order). */
export interface CardHistoryEntry {
  at: number;
  api: 'create' | 'deliver' | 'streaming' | 'update';
  /** The streamed key's content after this call (streaming), or the changed params (create/update). */
  content?: string;
  params?: Record<string, string>;
  isFinalize?: boolean;
  isError?: boolean;
  spaces?: string[];
}

/** A card instance as the sandbox keeps it. */
export interface SandboxCard {
  outTrackId: string;
  clientId: string;
  templateId: string;
  createdAt: number;
  updatedAt: number;
  /** The card's public data (`cardData.cardParamMap`), values strings. */
  params: Record<string, string>;
  spaces: CardSpace[];
  /** The streaming state: the key being streamed, whether it was finalized or marked failed. */
  streaming: { key: string; frames: number; finalized: boolean; error: boolean } | null;
  /** Bumped on every change (a page can skip stale renders). */
  version: number;
  history: CardHistoryEntry[];
  /** History entries dropped to keep it bounded. */
  historyDropped: number;
}

/** Most cards kept (oldest dropped), and most history entries per card. */
export const MAX_CARDS = 5000;
export const MAX_HISTORY = 200;

/**
 * The sandbox's card instances (AI卡片): created, delivered, streamed into and updated through the
 * emulated card APIs, read through the control API. In memory, bounded. Emits `change` with the card
 * after every change (for a page that renders cards live).
 */
export class CardRegistry extends EventEmitter<{ change: [SandboxCard] }> {
  readonly qps = new CardQps();
  readonly #cards = new Map<string, SandboxCard>();
  readonly #clock: SandboxClock;

  constructor(clock: SandboxClock) {
    super();
    this.#clock = clock;
    this.setMaxListeners(100);
  }

  get(outTrackId: string): SandboxCard | undefined {
    return this.#cards.get(outTrackId);
  }

  /** Cards, newest first, optionally of one app or delivered to one space id (userId/openConversationId). */
  list(filter: { clientId?: string; spaceId?: string; limit?: number } = {}): SandboxCard[] {
    const out: SandboxCard[] = [];
    const all = [...this.#cards.values()].reverse();
    for (const card of all) {
      if (filter.clientId !== undefined && card.clientId !== filter.clientId) continue;
      if (filter.spaceId !== undefined && !card.spaces.some((s) => s.id === filter.spaceId)) continue;
      out.push(card);
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }

  /** Adds a card (replacing nothing: the caller checked the id is free or its own). */
  create(init: {
    outTrackId: string;
    clientId: string;
    templateId: string;
    params: Record<string, string>;
  }): SandboxCard {
    const now = this.#clock.now();
    const card: SandboxCard = {
      ...init,
      createdAt: now,
      updatedAt: now,
      spaces: [],
      streaming: null,
      version: 1,
      history: [],
      historyDropped: 0,
    };
    if (this.#cards.size >= MAX_CARDS) {
      const oldest = this.#cards.keys().next().value;
      if (oldest !== undefined) this.#cards.delete(oldest);
    }
    this.#cards.set(card.outTrackId, card);
    this.#record(card, { api: 'create', params: { ...init.params } });
    return card;
  }

  deliver(card: SandboxCard, spaces: Omit<CardSpace, 'deliveredAt'>[]): void {
    const now = this.#clock.now();
    for (const space of spaces)
      if (!card.spaces.some((s) => s.openSpaceId === space.openSpaceId))
        card.spaces.push({ ...space, deliveredAt: now });
    this.#record(card, { api: 'deliver', spaces: spaces.map((s) => s.openSpaceId) });
  }

  stream(
    card: SandboxCard,
    frame: { key: string; content: string; isFull: boolean; isFinalize: boolean; isError: boolean },
  ): void {
    const previous = card.params[frame.key] ?? '';
    const content = frame.isFull ? frame.content : previous + frame.content;
    card.params[frame.key] = content;
    const frames = (card.streaming?.key === frame.key ? card.streaming.frames : 0) + 1;
    card.streaming = { key: frame.key, frames, finalized: frame.isFinalize, error: frame.isError };
    this.#record(card, { api: 'streaming', content, isFinalize: frame.isFinalize, isError: frame.isError });
  }

  update(card: SandboxCard, params: Record<string, string>, byKey: boolean): void {
    card.params = byKey ? { ...card.params, ...params } : { ...params };
    this.#record(card, { api: 'update', params: { ...params } });
  }

  /** Forgets every card (the QPS limit and meter stay). */
  clear(): void {
    this.#cards.clear();
  }

  #record(card: SandboxCard, entry: Omit<CardHistoryEntry, 'at'>): void {
    const now = this.#clock.now();
    card.updatedAt = now;
    card.version += 1;
    card.history.push({ at: now, ...entry });
    if (card.history.length > MAX_HISTORY) {
      card.history.shift();
      card.historyDropped += 1;
    }
    this.emit('change', card);
  }
}

const registries = new WeakMap<object, CardRegistry>();

/** The card registry of a platform (one per sandbox), made on first use. */
export function cardRegistryOf(platform: { clock: SandboxClock }): CardRegistry {
  let registry = registries.get(platform);
  if (!registry) {
    registry = new CardRegistry(platform.clock);
    registries.set(platform, registry);
  }
  return registry;
}
