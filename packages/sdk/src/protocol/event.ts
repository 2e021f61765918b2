import type { DownstreamFrame } from './frame.js';
import { type JsonObject, parseJsonObject } from './json.js';

/** A typed EVENT: its identifying headers and its parsed payload. */
export interface StreamEvent<T = JsonObject> {
  /** Dedup key: `eventId`, falling back to the frame's `messageId`. */
  id: string;
  messageId: string;
  eventType: string;
  eventCorpId: string | undefined;
  eventBornTime: number | undefined;
  eventUnifiedAppId: string | undefined;
  headers: DownstreamFrame['headers'];
  data: T;
}

/** Turns an EVENT frame into a StreamEvent. Throws ProtocolError when `data` is not a JSON object. */
export function decodeEvent(frame: DownstreamFrame): StreamEvent {
  const h = frame.headers;
  const born = h.eventBornTime === undefined ? undefined : Number(h.eventBornTime);
  return {
    id: h.eventId || h.messageId,
    messageId: h.messageId,
    eventType: h.eventType ?? '',
    eventCorpId: h.eventCorpId,
    eventBornTime: born !== undefined && Number.isFinite(born) ? born : undefined,
    eventUnifiedAppId: h.eventUnifiedAppId,
    headers: h,
    data: frame.data === '' ? {} : parseJsonObject(frame.data, 'data', h.messageId),
  };
}
