/**
 * The node's ENR (EIP-778) with Waku's fields (31/WAKU2-ENR), built and
 * signed with ChainSafe's ENR library (the one discv5 speaks), and any ENR
 * decoded the way nwaku and js-waku read one:
 * - `waku2`: one byte of capability bits, relay 0, store 1, filter 2,
 *   lightpush 3, sync 4 (nwaku's `CapabilitiesBitfield`);
 * - `multiaddrs`: each address without /p2p/, prefixed by its length as a
 *   big-endian uint16, concatenated (nwaku's `encodeMultiaddrs`);
 * - `rs`: cluster id (uint16 BE), shard count (uint8), shard ids (uint16 BE
 *   each); `rsv`: cluster id then a 128-byte bit vector (nwaku's sharding.nim).
 */
import { ENR, SignableENR, portToBuf } from '@chainsafe/enr';
import type { PrivateKey } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { ConfigError } from '../util/errors.ts';

export interface WakuCapabilities {
  relay: boolean;
  store: boolean;
  filter: boolean;
  lightPush: boolean;
  sync: boolean;
}

export const KEEPER_CAPABILITIES: WakuCapabilities = { relay: true, store: true, filter: false, lightPush: false, sync: false };

const BITS: readonly (keyof WakuCapabilities)[] = ['relay', 'store', 'filter', 'lightPush', 'sync'];

export function encodeWaku2(c: WakuCapabilities): number {
  return BITS.reduce((byte, name, bit) => (c[name] ? byte | (1 << bit) : byte), 0);
}

export function decodeWaku2(byte: number): WakuCapabilities {
  const c = { relay: false, store: false, filter: false, lightPush: false, sync: false };
  BITS.forEach((name, bit) => {
    c[name] = (byte & (1 << bit)) !== 0;
  });
  return c;
}

export function encodeMultiaddrs(addrs: readonly Multiaddr[]): Uint8Array {
  const parts = addrs.map((a) => {
    if (a.getPeerId() !== null) throw new Error(`${a.toString()}: an ENR's multiaddrs carry no /p2p/`);
    return a.bytes;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

/** Decodes a `multiaddrs` field; an entry that is no multiaddr is skipped (as nwaku does), a bad length ends the field. */
export function decodeMultiaddrs(bytes: Uint8Array): Multiaddr[] {
  const out: Multiaddr[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const len = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    at += 2;
    if (len === 0 || at + len > bytes.length) break;
    try {
      out.push(multiaddr(bytes.subarray(at, at + len)));
    } catch {
      // not a multiaddr this library knows
    }
    at += len;
  }
  return out;
}

export interface RelayShards {
  clusterId: number;
  shards: number[];
}

/** The `rs` field (indices list); nwaku switches to `rsv` from 64 shards on. */
export function encodeRelayShards(rs: RelayShards): { key: 'rs' | 'rsv'; value: Uint8Array } {
  if (rs.shards.length >= 64) {
    const v = new Uint8Array(130);
    v[0] = rs.clusterId >> 8;
    v[1] = rs.clusterId & 0xff;
    for (const s of rs.shards) v[2 + (s >> 3)] = (v[2 + (s >> 3)] as number) | (1 << (s & 7));
    return { key: 'rsv', value: v };
  }
  const v = new Uint8Array(3 + 2 * rs.shards.length);
  v[0] = rs.clusterId >> 8;
  v[1] = rs.clusterId & 0xff;
  v[2] = rs.shards.length;
  rs.shards.forEach((s, i) => {
    v[3 + 2 * i] = s >> 8;
    v[4 + 2 * i] = s & 0xff;
  });
  return { key: 'rs', value: v };
}

export function decodeRelayShards(kvs: ReadonlyMap<string, Uint8Array>): RelayShards | null {
  const rs = kvs.get('rs');
  if (rs !== undefined && rs.length >= 3) {
    const n = rs[2] as number;
    if (rs.length !== 3 + 2 * n) return null;
    const shards = Array.from({ length: n }, (_, i) => ((rs[3 + 2 * i] as number) << 8) | (rs[4 + 2 * i] as number));
    return { clusterId: ((rs[0] as number) << 8) | (rs[1] as number), shards };
  }
  const rsv = kvs.get('rsv');
  if (rsv !== undefined && rsv.length === 130) {
    const shards: number[] = [];
    for (let i = 0; i < 1024; i++) if (((rsv[2 + (i >> 3)] as number) & (1 << (i & 7))) !== 0) shards.push(i);
    return { clusterId: ((rsv[0] as number) << 8) | (rsv[1] as number), shards };
  }
  return null;
}

/** What this node puts in its ENR. */
export interface EnrContent {
  /** The IPv4 address and TCP port peers should dial (the best public one, else the node's own). */
  ip?: string | undefined;
  tcp?: number | undefined;
  /** discv5's UDP port, as reachable from outside. */
  udp?: number | undefined;
  /** Addresses ip/tcp cannot say: WebSocket, DNS names; without /p2p/. */
  multiaddrs: string[];
  capabilities: WakuCapabilities;
  shards: RelayShards;
}

/** The record's fields for this content; `undefined` removes a field. */
function contentFields(c: EnrContent): [string, Uint8Array | undefined][] {
  const rs = encodeRelayShards(c.shards);
  const addrs = c.multiaddrs.map((a) => multiaddr(a));
  return [
    ['ip', c.ip === undefined ? undefined : Uint8Array.from(c.ip.split('.').map(Number))],
    ['tcp', c.tcp === undefined ? undefined : portToBuf(c.tcp)],
    ['udp', c.udp === undefined ? undefined : portToBuf(c.udp)],
    ['multiaddrs', addrs.length === 0 ? undefined : encodeMultiaddrs(addrs)],
    ['waku2', Uint8Array.of(encodeWaku2(c.capabilities))],
    [rs.key, rs.value],
    [rs.key === 'rs' ? 'rsv' : 'rs', undefined],
  ];
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/** Writes the content into a signable ENR; true when anything changed (the library then raises seq and signs anew). */
export function applyEnrContent(enr: SignableENR, c: EnrContent): boolean {
  let changed = false;
  for (const [key, value] of contentFields(c)) {
    const had = enr.kvs.get(key);
    if (value === undefined) {
      if (had !== undefined) {
        enr.delete(key);
        changed = true;
      }
    } else if (!sameBytes(had, value)) {
      enr.set(key, value);
      changed = true;
    }
  }
  return changed;
}

/**
 * A new signed ENR for this node. Its sequence number starts at the current
 * time in seconds, so a restarted node's record supersedes the one peers kept.
 */
export function createNodeEnr(key: PrivateKey, c: EnrContent, nowMs = Date.now()): SignableENR {
  const base = SignableENR.createFromPrivateKey(key);
  const kvs = new Map(base.kvs);
  for (const [k, v] of contentFields(c)) if (v !== undefined) kvs.set(k, v);
  return new SignableENR(kvs, BigInt(Math.floor(nowMs / 1000)), base.privateKey);
}

export interface DecodedEnr {
  text: string;
  peerId: string;
  nodeId: string;
  seq: bigint;
  ip: string | null;
  tcp: number | null;
  udp: number | null;
  /** Every dialable address the record names (ip/tcp, ip6/tcp6 and the multiaddrs field), with /p2p/. */
  multiaddrs: string[];
  /** Null: the record has no waku2 field (not a Waku node). */
  capabilities: WakuCapabilities | null;
  shards: RelayShards | null;
}

export function decodeEnrRecord(enr: ENR): DecodedEnr {
  const peerId = enr.peerId.toString();
  const dialable: string[] = [];
  if (enr.ip !== undefined && enr.tcp !== undefined) dialable.push(`/ip4/${enr.ip}/tcp/${enr.tcp}`);
  if (enr.ip6 !== undefined && enr.tcp6 !== undefined) dialable.push(`/ip6/${enr.ip6}/tcp/${enr.tcp6}`);
  const field = enr.kvs.get('multiaddrs');
  if (field !== undefined) for (const a of decodeMultiaddrs(field)) dialable.push(a.toString());
  const waku2 = enr.kvs.get('waku2');
  return {
    text: enr.encodeTxt(),
    peerId,
    nodeId: enr.nodeId,
    seq: enr.seq,
    ip: enr.ip ?? null,
    tcp: enr.tcp ?? null,
    udp: enr.udp ?? null,
    multiaddrs: [...new Set(dialable)].map((a) => `${a}/p2p/${peerId}`),
    capabilities: waku2 === undefined || waku2.length < 1 ? null : decodeWaku2(waku2[0] as number),
    shards: decodeRelayShards(enr.kvs),
  };
}

/** Decodes and verifies an `enr:` text record; throws on a bad one. */
export function decodeEnr(text: string): DecodedEnr {
  return decodeEnrRecord(ENR.decodeTxt(text.trim()));
}

/** An ENR given on the command line (`--discv5-bootstrap`): it must decode and its signature verify. */
export function parseEnrFlag(field: string, text: string): string {
  const t = text.trim();
  if (!t.startsWith('enr:')) throw new ConfigError(field, `"${t.slice(0, 40)}" is not an ENR (it starts with enr:-)`);
  try {
    ENR.decodeTxt(t);
  } catch (err) {
    throw new ConfigError(field, `"${t.slice(0, 40)}…" is not a valid signed ENR (${(err as Error).message})`);
  }
  return t;
}

/** The key–value pairs of a record as text, for tests and logs. */
export function enrFields(text: string): Record<string, string> {
  const enr = ENR.decodeTxt(text);
  return Object.fromEntries([...enr.kvs].map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
}

