import { networkInterfaces } from 'node:os';

/** The first non-internal IPv4 address of this host, or `127.0.0.1` when there is none. */
export function defaultLocalIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}
