/** Stable codes of gateway failures, as the control API returns them in `{code, message}`. */
export const GatewayErrorCode = {
  /** No live connection of the app subscribes to the topic. */
  NoSubscriber: 'noSubscriber',
  /** The frame would exceed `maxFrameBytes` (256 KiB). */
  FrameTooLarge: 'frameTooLarge',
  /** No connection with that id. */
  UnknownConnection: 'unknownConnection',
  /** The connection is disconnecting or closed. */
  ConnectionNotOpen: 'connectionNotOpen',
  /** No registered app with that clientId. */
  UnknownApp: 'unknownApp',
  /** The gateway is closing or closed. */
  Closed: 'gatewayClosed',
  /** No live connection and the app already has `heldEventLimit` EVENTs held. */
  HeldEventsFull: 'heldEventsFull',
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

const HTTP_STATUS: Record<GatewayErrorCode, number> = {
  noSubscriber: 409,
  frameTooLarge: 413,
  unknownConnection: 404,
  connectionNotOpen: 409,
  unknownApp: 404,
  gatewayClosed: 503,
  heldEventsFull: 429,
};

/** A request to the gateway that cannot be carried out; `httpStatus` is what the control API answers. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly httpStatus: number;
  constructor(code: GatewayErrorCode, message: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.httpStatus = HTTP_STATUS[code];
  }
}
