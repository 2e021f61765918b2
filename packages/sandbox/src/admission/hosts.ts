import { networkInterfaces } from 'node:os';

/** Names the sandbox always answers to on its own port (DNS rebinding brings any other name). */
export const LOOPBACK_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/** `name:port` or `[v6]:port`: an allow-list entry for that port only. */
const WITH_PORT = /^(?:\[[^\]]*\]|[^:[\]]+):\d+$/;

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** A `Host` header (or an origin's host) split into a lower-case name and a port (80 when absent). */
export interface HostPort {
  name: string;
  port: number;
}

/**
 * Splits `name[:port]` (`[v6]:port` for IPv6). Undefined for anything else: an empty value, a bad
 * port, a bare IPv6 address without brackets, or characters no host name has.
 */
export function splitHost(value: string | undefined, defaultPort = 80): HostPort | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '' || v.length > 300) return undefined;
  let name: string;
  let rest: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    name = v.slice(0, end + 1);
    rest = v.slice(end + 1);
  } else {
    const colon = v.indexOf(':');
    name = colon < 0 ? v : v.slice(0, colon);
    rest = colon < 0 ? '' : v.slice(colon);
  }
  if (name === '' || /[\s/@?#\\]/.test(name)) return undefined;
  if (rest === '') return { name, port: defaultPort };
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  return port <= 65_535 ? { name, port } : undefined;
}

/** An IP address as it stands in a URL (IPv6 in brackets, without a zone). */
function urlName(address: string): string {
  return address.includes(':') ? `[${address.split('%')[0]}]` : address;
}

/** What the sandbox is bound to and what it was told to accept besides. */
export interface HostPolicyInput {
  /** The interface the sandbox listens on (`options.host`). */
  host: string;
  /** Extra names (`name` = on the sandbox's port, or `name:port` exactly), from `options.allowedHosts`. */
  allowedHosts: readonly string[];
}

/**
 * Which `Host` values the sandbox answers: the loopback names on its port, the name it was bound to
 * (every address of this machine when bound to a wildcard such as 0.0.0.0), and the allow-list.
 */
export class HostPolicy {
  readonly #names = new Set<string>(LOOPBACK_NAMES);
  readonly #exact = new Set<string>();
  readonly #port: () => number;

  /** `port` is read on each check: it is known only once the server listens (port 0 = chosen by the OS). */
  constructor(input: HostPolicyInput, port: () => number) {
    this.#port = port;
    const bound = input.host.toLowerCase();
    if (WILDCARDS.has(bound)) {
      for (const nic of Object.values(networkInterfaces()).flat())
        if (nic !== undefined) this.#names.add(urlName(nic.address));
    } else this.#names.add(bound.startsWith('[') ? bound : urlName(bound));
    for (const entry of input.allowedHosts) {
      const split = splitHost(entry);
      if (split === undefined) continue;
      if (WITH_PORT.test(entry.trim())) this.#exact.add(`${split.name}:${split.port}`);
      else this.#names.add(split.name);
    }
  }

  /** True when `value` (a `Host` header, or the host of an `Origin`) names this sandbox. */
  allows(value: string | undefined): boolean {
    const hp = splitHost(value);
    if (hp === undefined) return false;
    if (this.#exact.has(`${hp.name}:${hp.port}`)) return true;
    return hp.port === this.#port() && this.#names.has(hp.name);
  }
}
