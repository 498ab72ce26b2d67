/**
 * The reachability flags, as nwaku names and reads them: `--nat any|upnp|pmp|
 * extip:IP|none`, `--announce MULTIADDR` (nwaku's --ext-multiaddr) and
 * `--dns4-domain NAME`. Pure parsing; bad input names its flag.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { ConfigError } from '../util/errors.ts';

/**
 * How the public address is found: `any` tries UPnP, then NAT-PMP; `upnp` and
 * `pmp` only that protocol; `extip` takes the address as given and maps
 * nothing; `none` maps nothing and announces no address but the node's own.
 */
export type NatMode = { kind: 'any' } | { kind: 'upnp' } | { kind: 'pmp' } | { kind: 'none' } | { kind: 'extip'; ip: string };

export const DEFAULT_NAT: NatMode = { kind: 'any' };

export function parseNat(field: string, text: string): NatMode {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'any' || lower === 'upnp' || lower === 'pmp' || lower === 'none') return { kind: lower };
  if (lower.startsWith('extip:')) {
    const ip = t.slice('extip:'.length);
    if (!isIPv4(ip) && !isIPv6(ip)) throw new ConfigError(field, `"${ip}" is not an IP address (example: extip:203.0.113.7)`);
    return { kind: 'extip', ip };
  }
  throw new ConfigError(field, `"${text}" is not one of any, upnp, pmp, extip:IP, none`);
}

export function natModeText(m: NatMode): string {
  return m.kind === 'extip' ? `extip:${m.ip}` : m.kind;
}

/** Whether the mode asks a router for a port mapping. */
export function natMaps(m: NatMode): boolean {
  return m.kind === 'any' || m.kind === 'upnp' || m.kind === 'pmp';
}

/**
 * An address to announce as given: an IP or DNS host, then TCP (optionally
 * /ws or /wss). Its /p2p/ part, when present, must be left out: the node adds its own.
 */
export function parseAnnounce(field: string, text: string): string {
  let addr;
  try {
    addr = multiaddr(text.trim());
  } catch (err) {
    throw new ConfigError(field, `"${text}" is not a multiaddr (${(err as Error).message})`);
  }
  const parts = addr.stringTuples().map(([code]) => code);
  const names = addr.protoNames();
  if (names.includes('p2p')) throw new ConfigError(field, `"${text}": leave out /p2p/, the Keeper adds its own`);
  const host = names[0];
  if (!['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(host ?? '') || names[1] !== 'tcp' || parts.length < 2) {
    throw new ConfigError(field, `"${text}" must be an IP or DNS address with a TCP port (example: /ip4/203.0.113.7/tcp/60000)`);
  }
  const rest = names.slice(2);
  if (rest.length > 1 || (rest.length === 1 && rest[0] !== 'ws' && rest[0] !== 'wss')) {
    throw new ConfigError(field, `"${text}": only /tcp/PORT, /tcp/PORT/ws and /tcp/PORT/wss can be announced`);
  }
  return addr.toString();
}

/** A DNS name this node is reachable under (RFC 1123 labels). */
export function parseDomain(field: string, text: string): string {
  const name = text.trim().replace(/\.$/, '').toLowerCase();
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => label.test(l)) || !name.includes('.') || isIPv4(name)) {
    throw new ConfigError(field, `"${text}" is not a DNS name (example: keeper.example.org)`);
  }
  return name;
}

/** A UDP port: 1 to 65535 (0 picks a free one, for tests). */
export function parseUdpPort(field: string, text: string): number {
  if (!/^\d{1,5}$/.test(text.trim())) throw new ConfigError(field, `"${text}" is not a port number`);
  const port = Number(text);
  if (port > 65535) throw new ConfigError(field, `${port} is out of range (0 to 65535)`);
  return port;
}
