import { isPlainObject, parseJsonText } from './json.js';

/** `data` of a SYSTEM ping: echoed back unchanged in the ack. */
export interface PingData {
  opaque: string;
}

/** `data` of a SYSTEM disconnect. */
export interface DisconnectData {
  reason: string;
}

/** Reads the reason of a disconnect frame; tolerant: a missing or odd body gives "". */
export function readDisconnectReason(data: string): string {
  if (data === '') return '';
  try {
    const doc = parseJsonText(data, 'data');
    return isPlainObject(doc) && typeof doc.reason === 'string' ? doc.reason : '';
  } catch {
    // A disconnect is acted on whatever its body says; an unreadable reason is reported as "".
    return '';
  }
}
