/** Messages between the gateway suite (parent) and its reader process (child), over the fork IPC channel. */

/** argv[2] of the reader: where the sandbox is and the app to connect as. */
export interface ReaderArgs {
  apiBase: string;
  clientId: string;
  clientSecret: string;
}

/** `expect`: count the next `count` frames (and ack each one when `ack`). */
export type ReaderIn = { type: 'expect'; count: number; ack: boolean } | { type: 'stop' };

export type ReaderOut =
  | { type: 'ready' }
  | { type: 'armed' }
  | {
      type: 'received';
      count: number;
      /** Epoch ms (sub-ms resolution) of the first and the last frame read. */
      firstAt: number;
      lastAt: number;
      /** CPU (user+sys, µs) of the reader from `expect` to the last frame. */
      cpuUs: number;
      /** Frames that arrived while nothing was expected. */
      stray: number;
    }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };
