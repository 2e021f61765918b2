import { createHash, randomUUID } from 'node:crypto';
import {
  type DownstreamFrame,
  type FrameHeaders,
  type FrameType,
  JSON_CONTENT_TYPE,
  serializeDownstreamFrame,
} from '@dingtalk-skills/sdk/protocol';
import { GatewayError, GatewayErrorCode } from './errors.js';

/** A fresh message id (a new one for every frame, redeliveries included). */
export function newMessageId(): string {
  return randomUUID().replace(/-/g, '');
}

/**
 * The app's unified app id (统一应用身份Id) that EVENT frames carry in `eventUnifiedAppId`. DingTalk's
 * event docs show a UUID (`bbb381b6-f01x...`), not the AppKey/clientId; the sandbox derives a stable
 * lowercase UUID (version 4 layout) from the clientId, so it is the same for every event of an app.
 */
export function unifiedAppIdFor(clientId: string): string {
  const h = createHash('sha256').update(`sandbox-unified-app-id\u0000${clientId}`, 'utf8').digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Headers every downstream frame carries; all values are strings (`time` included). */
export interface FrameAddress {
  topic: string;
  messageId: string;
  appId: string;
  connectionId: string;
  /** Sandbox clock, ms since the epoch. */
  now: number;
}

/** Event headers added to an EVENT frame (topic `*`). */
export interface EventHeaders {
  eventId: string;
  eventType: string;
  eventCorpId: string;
  eventBornTime: number;
  eventUnifiedAppId: string;
}

function baseHeaders(a: FrameAddress): FrameHeaders {
  return {
    topic: a.topic,
    messageId: a.messageId,
    contentType: JSON_CONTENT_TYPE,
    time: String(a.now),
    appId: a.appId,
    connectionId: a.connectionId,
  };
}

export function buildFrame(type: FrameType, a: FrameAddress, data: string): DownstreamFrame {
  return { specVersion: '1.0', type, headers: baseHeaders(a), data };
}

export function buildEventFrame(a: FrameAddress, e: EventHeaders, data: string): DownstreamFrame {
  const headers: FrameHeaders = {
    ...baseHeaders(a),
    eventId: e.eventId,
    eventBornTime: String(e.eventBornTime),
    eventCorpId: e.eventCorpId,
    eventType: e.eventType,
    eventUnifiedAppId: e.eventUnifiedAppId,
  };
  return { specVersion: '1.0', type: 'EVENT', headers, data };
}

/** An encoded frame and its size in bytes. */
export interface EncodedFrame {
  text: string;
  bytes: number;
}

/** Serializes a frame; throws `frameTooLarge` rather than send more than `maxBytes`. */
export function encodeFrame(frame: DownstreamFrame, maxBytes: number): EncodedFrame {
  const text = serializeDownstreamFrame(frame);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes)
    throw new GatewayError(
      GatewayErrorCode.FrameTooLarge,
      `the ${frame.type} frame would be ${bytes} bytes; the gateway sends at most ${maxBytes} bytes per frame`,
    );
  return { text, bytes };
}
