/**
 * A Keeper's configuration: the defaults, the command-line flags of DESIGN §5,
 * and the checks that turn bad input into a message naming the bad field.
 */
import { parseArgs } from 'node:util';
import { defaultDataDir } from './paths.ts';
import { isValidContentTopic, isValidPubsubTopic, parseShardTopic, shardTopic } from '../message/topics.ts';
import { parseProtectedShard } from '../message/protected-shards.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../message/validate.ts';
import type { MessageRules } from '../message/validate.ts';
import { statusCommunityEntries } from '../communities/status-community.ts';
import { STATUS_CLUSTER_ID, STATUS_MAX_MESSAGE_BYTES, STATUS_PROTECTED_SHARDS, STATUS_PUBSUB_TOPICS } from '../communities/status-network.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { DAY_MS, nsToMs } from '../util/time.ts';
import { MAX_CLOCK_SKEW_NS } from '../message/validate.ts';
import { ConfigError } from '../util/errors.ts';
import { DEFAULT_NAT, parseAnnounce, parseDomain, parseNat, parseUdpPort } from '../reach/nat-options.ts';
import type { NatMode } from '../reach/nat-options.ts';
import { parseEnrFlag } from '../discovery/enr.ts';

export interface KeeperConfig {
  dataDir: string;
  pubsubTopics: string[];
  /** When non-empty, only these content topics are archived (all are still relayed). */
  contentTopics: string[];
  /** Listen addresses; `undefined` means the defaults, falling back to free ports when taken. */
  listen: string[] | undefined;
  peers: string[];
  storePeers: string[];
  /** Status communities to keep (--community): links, zQ3… keys or 0x… ids; kept from this start on, saved as the dashboard's. */
  communityRefs: string[];
  fillQuorum: number;
  retentionMs: number;
  quotaBytes: number;
  /** `host:port` of the local API; port 0 picks a free one. */
  api: { host: string; port: number };
  discovery: boolean;
  clusterId: number;
  retentionIntervalMs: number;
  /** Store v3 requests one peer may make: `capacity` at once, refilled at `perSecond`; undefined is the store server's default. */
  storeRateLimit?: { capacity: number; perSecond: number } | undefined;
  /** Uptime heartbeat: how often the open online interval is extended. */
  heartbeatMs: number;
  /** How often gap filling runs (it also runs at start and on regaining relay peers). */
  fillIntervalMs: number;
  /**
   * How often the consistency check runs (nwaku's --store-sync-interval): Waku
   * Sync with peers that speak it, hash listings with the rest.
   */
  checkIntervalMs: number;
  /** Waku Sync (nwaku's --store-sync): answer reconciliation, and sync with peers that speak it in the consistency check. */
  storeSync: boolean;
  /** What is synced with a peer that is not a Keeper (nwaku's --store-sync-range): this much before the end. Keepers sync the whole retention window. */
  storeSyncRangeMs: number;
  /** How often this Keeper announces itself to each kept community (± 20 %; sooner on change). */
  keepersAnnounceIntervalMs: number;
  /** The newest stretch left alone by filling, checks and syncs (nwaku's --store-sync-relay-jitter): relay may still deliver into it. */
  settleMs: number;
  /**
   * How far a message's timestamp may lie from when relay delivered it (the
   * relay's clock tolerance): online stretches count as held only this far
   * inside their ends, and fill windows are widened by it.
   */
  clockMarginMs: number;
  /** How long one Store v3 request to a peer may take before it counts as failed. */
  storeQueryTimeoutMs: number;
  /** A Store v3 stream that makes no progress for this long is closed. */
  storeIdleTimeoutMs: number;
  /** The most pages one peer may give for one window before it counts as endless. */
  maxFillPagesPerWindow: number;
  /** The most an encoded message may weigh; undefined: the cluster's (1 MiB on Status's 16, else 150 KiB). */
  maxMessageBytes?: number | undefined;
  /** Shards whose messages must be signed by the shard's key (`SHARD:PUBKEY`); undefined: the cluster's (Status's three on 16). */
  protectedShards?: string[] | undefined;
  /** `host:port` of nwaku's REST API; undefined: off. */
  rest?: { host: string; port: number } | undefined;
  /** The built dashboard the local API serves; undefined serves a note that it is not built. */
  rendererDir?: string | undefined;
  /** How the public address is found and mapped (--nat, nwaku's meaning). */
  nat: NatMode;
  /** Addresses announced as given (--announce), without /p2p/. */
  announce: string[];
  /** A DNS name resolving to this node's public address (--dns4-domain). */
  dns4Domain?: string | undefined;
  /** discv5's UDP port; undefined: 9000, or a free one when that is taken. discv5 runs with discovery, or when bootstrap ENRs are given. */
  discv5UdpPort?: number | undefined;
  /** ENRs discv5 starts from; none: the fleet's, by DNS discovery. */
  discv5Bootstrap: string[];
  /** How often public addresses are checked again by AutoNAT dial-back. */
  reachCheckIntervalMs: number;
  /** How often the network interfaces are looked at for a change. */
  netWatchIntervalMs: number;
  /** Time between discv5 random lookups. */
  discv5LookupIntervalMs: number;
  /** Fields set by command-line flags: settings saved from the dashboard do not override them. */
  explicit: ReadonlyArray<'quotaBytes' | 'retentionMs'>;
}

/** nwaku's --store-sync-range default: its last hour. */
export const NWAKU_SYNC_RANGE_MS = 3600_000;

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/60000', '/ip4/0.0.0.0/tcp/8000/ws'];
export const DEFAULT_API = { host: '127.0.0.1', port: 8647 };

export function defaultConfig(overrides: Partial<KeeperConfig> = {}): KeeperConfig {
  return {
    dataDir: defaultDataDir(),
    pubsubTopics: [...STATUS_PUBSUB_TOPICS],
    contentTopics: [],
    listen: undefined,
    peers: [],
    storePeers: [],
    communityRefs: [],
    fillQuorum: 2,
    retentionMs: 30 * DAY_MS,
    quotaBytes: 10 * 1000 ** 3,
    api: { ...DEFAULT_API },
    discovery: true,
    clusterId: STATUS_CLUSTER_ID,
    retentionIntervalMs: 10 * 60 * 1000,
    heartbeatMs: 10_000,
    fillIntervalMs: 10 * 60 * 1000,
    checkIntervalMs: 5 * 60 * 1000,
    storeSync: true,
    storeSyncRangeMs: NWAKU_SYNC_RANGE_MS,
    keepersAnnounceIntervalMs: 5 * 60 * 1000,
    settleMs: 30_000,
    clockMarginMs: nsToMs(MAX_CLOCK_SKEW_NS),
    explicit: [],
    storeQueryTimeoutMs: 20_000,
    storeIdleTimeoutMs: 30_000,
    maxFillPagesPerWindow: 50_000,
    nat: DEFAULT_NAT,
    announce: [],
    discv5Bootstrap: [],
    reachCheckIntervalMs: 5 * 60 * 1000,
    netWatchIntervalMs: 10_000,
    discv5LookupIntervalMs: 30_000,
    ...overrides,
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export function parseDuration(field: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i.exec(text.trim());
  if (!m) throw new ConfigError(field, `"${text}" is not a duration (examples: 30d, 12h, 90s)`);
  const value = Number(m[1]) * (DURATION_UNITS[(m[2] ?? '').toLowerCase()] ?? NaN);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(field, `"${text}" must be more than zero`);
  return Math.round(value);
}

/** nwaku's way first (whole seconds, `--store-sync-range=3600`), else a duration (`1h`). */
export function parseSeconds(field: string, text: string): number {
  if (/^\d+$/.test(text.trim())) {
    const s = Number(text);
    if (s <= 0) throw new ConfigError(field, `"${text}" must be more than zero`);
    return s * 1000;
  }
  return parseDuration(field, text);
}

/** nwaku's boolean flags: `--store-sync`, `--store-sync=true`, `--store-sync=false`. */
function parseBool(field: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '') return true;
  if (t === 'false') return false;
  throw new ConfigError(field, `"${text}" is not true or false`);
}

export function parseSize(field: string, text: string, minBytes = 1024 * 1024): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text.trim());
  if (!m) throw new ConfigError(field, `"${text}" is not a size (examples: 10GB, 500MiB, 150KiB)`);
  const value = Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? NaN);
  if (!Number.isFinite(value) || value < minBytes) throw new ConfigError(field, `"${text}" is below the ${minBytes >= 1024 * 1024 ? '1 MiB' : `${minBytes} B`} minimum`);
  return Math.round(value);
}

/**
 * The message rules of the network a config serves: its size cap and its
 * protected shards, the flags' when given, else its cluster's (Status's on 16).
 */
export function messageRulesOf(c: Readonly<KeeperConfig>): MessageRules {
  const status = c.clusterId === STATUS_CLUSTER_ID;
  const maxMessageBytes = c.maxMessageBytes ?? (status ? STATUS_MAX_MESSAGE_BYTES : DEFAULT_MAX_MESSAGE_BYTES);
  const specs = c.protectedShards ?? (status ? STATUS_PROTECTED_SHARDS.map((p) => `${p.shard}:${p.publicKey}`) : []);
  const protectedShards = new Map<string, Uint8Array>();
  for (const spec of specs) {
    const p = parseProtectedShard(spec);
    protectedShards.set(shardTopic(c.clusterId, p.shard), p.publicKey);
  }
  return { maxMessageBytes, protectedShards };
}

export function parseHostPort(field: string, text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new ConfigError(field, `"${text}" is not HOST:PORT (example: 127.0.0.1:8647)`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

function parsePositiveInt(field: string, text: string, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(field, `"${text}" is not a whole number`);
  const n = Number(text);
  if (n < 1 || n > max) throw new ConfigError(field, `${n} is out of range (1 to ${max})`);
  return n;
}

function checkMultiaddr(field: string, text: string, needPeerId: boolean): string {
  let addr;
  try {
    addr = multiaddr(text);
  } catch (err) {
    throw new ConfigError(field, `"${text}" is not a multiaddr (${(err as Error).message})`);
  }
  if (needPeerId && addr.getPeerId() === null) throw new ConfigError(field, `"${text}" must end in /p2p/<peer id>`);
  return text;
}

/** Checks a whole configuration; throws ConfigError on the first bad field. */
export function validateConfig<C extends Readonly<KeeperConfig>>(c: C): C {
  if (c.pubsubTopics.length === 0) throw new ConfigError('--pubsub-topic', 'at least one pubsub topic is needed');
  for (const t of c.pubsubTopics) {
    if (!isValidPubsubTopic(t)) throw new ConfigError('--pubsub-topic', `"${t}" is not a pubsub topic (example: /waku/2/rs/16/32)`);
  }
  const clusters = new Set(c.pubsubTopics.map((t) => parseShardTopic(t)?.clusterId).filter((x) => x !== undefined));
  if (clusters.size > 1) throw new ConfigError('--pubsub-topic', `topics of several clusters (${[...clusters].join(', ')}); one Keeper serves one cluster`);
  for (const t of c.contentTopics) {
    if (!isValidContentTopic(t)) throw new ConfigError('--content-topic', `"${t}" is not a content topic (example: /waku/1/0x1234abcd/rfc26)`);
  }
  for (const a of c.listen ?? []) checkMultiaddr('--listen', a, false);
  for (const a of c.peers) checkMultiaddr('--peer', a, true);
  for (const a of c.storePeers) checkMultiaddr('--store-peer', a, true);
  for (const ref of c.communityRefs) statusCommunityEntries(ref, '--community');
  if (c.communityRefs.length > 0 && c.clusterId !== STATUS_CLUSTER_ID) {
    throw new ConfigError('--community', `Status communities live on cluster ${STATUS_CLUSTER_ID}; this Keeper serves cluster ${c.clusterId}`);
  }
  if (!Number.isInteger(c.fillQuorum) || c.fillQuorum < 1) throw new ConfigError('--fill-quorum', 'must be a whole number of at least 1');
  if (c.dataDir.trim() === '') throw new ConfigError('--data-dir', 'must not be empty');
  if (c.heartbeatMs < 100) throw new ConfigError('--heartbeat', 'must be at least 100ms');
  if (c.fillIntervalMs < c.heartbeatMs) throw new ConfigError('--fill-interval', 'must not be shorter than the heartbeat');
  if (c.keepersAnnounceIntervalMs < 5_000) throw new ConfigError('--keepers-announce-interval', 'must be at least 5s');
  if (c.checkIntervalMs < c.heartbeatMs) throw new ConfigError('--check-interval', 'must not be shorter than the heartbeat');
  if (c.storeSyncRangeMs <= 0) throw new ConfigError('--store-sync-range', 'must be more than zero');
  if (c.retentionMs <= c.settleMs) throw new ConfigError('--retention', 'must be longer than the settle time');
  // What relay holds is settled by the window's end only if the settle time spans the clock margin and a heartbeat.
  if (c.clockMarginMs < 0) throw new ConfigError('--clock-margin', 'must not be negative');
  if (c.maxMessageBytes !== undefined && (c.maxMessageBytes < 1024 || c.maxMessageBytes > 64 * 1024 * 1024)) {
    throw new ConfigError('--max-message-size', 'must be between 1 KiB and 64 MiB');
  }
  for (const spec of c.protectedShards ?? []) {
    try {
      parseProtectedShard(spec);
    } catch (err) {
      throw new ConfigError('--protected-shard', (err as Error).message);
    }
  }
  for (const a of c.announce) parseAnnounce('--announce', a);
  if (c.dns4Domain !== undefined) parseDomain('--dns4-domain', c.dns4Domain);
  if (c.discv5UdpPort !== undefined && (!Number.isInteger(c.discv5UdpPort) || c.discv5UdpPort < 0 || c.discv5UdpPort > 65535)) {
    throw new ConfigError('--discv5-udp-port', 'must be a port number');
  }
  for (const e of c.discv5Bootstrap) parseEnrFlag('--discv5-bootstrap', e);
  if (c.settleMs < c.clockMarginMs + c.heartbeatMs) {
    throw new ConfigError('--settle', `must be at least the clock margin and a heartbeat (${c.clockMarginMs + c.heartbeatMs} ms)`);
  }
  return c;
}

/**
 * nwaku's booleans may stand alone (`--store-sync` means true): parseArgs
 * wants a value for them, so a bare one gets `=true` unless a value follows.
 */
function bareBooleans(argv: string[], flags: readonly string[]): string[] {
  return argv.map((a, i) => (flags.includes(a) && !/^(true|false)$/i.test(argv[i + 1] ?? '') ? `${a}=true` : a));
}

export type CliRequest = { kind: 'run'; config: KeeperConfig } | { kind: 'help' } | { kind: 'version' };

export function parseCli(argv: string[], base: KeeperConfig = defaultConfig()): CliRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: bareBooleans(argv, ['--store-sync']),
      strict: true,
      allowPositionals: false,
      options: {
        'data-dir': { type: 'string' },
        'pubsub-topic': { type: 'string', multiple: true },
        'content-topic': { type: 'string', multiple: true },
        community: { type: 'string', multiple: true },
        listen: { type: 'string', multiple: true },
        peer: { type: 'string', multiple: true },
        'store-peer': { type: 'string', multiple: true },
        'fill-quorum': { type: 'string' },
        retention: { type: 'string' },
        quota: { type: 'string' },
        api: { type: 'string' },
        heartbeat: { type: 'string' },
        'fill-interval': { type: 'string' },
        'keepers-announce-interval': { type: 'string' },
        'check-interval': { type: 'string' },
        'store-sync': { type: 'string' },
        'store-sync-interval': { type: 'string' },
        'store-sync-range': { type: 'string' },
        'store-sync-relay-jitter': { type: 'string' },
        'store-rate': { type: 'string' },
        'store-idle-timeout': { type: 'string' },
        settle: { type: 'string' },
        'max-message-size': { type: 'string' },
        'protected-shard': { type: 'string', multiple: true },
        rest: { type: 'string' },
        'clock-margin': { type: 'string' },
        'no-discovery': { type: 'boolean' },
        nat: { type: 'string' },
        announce: { type: 'string', multiple: true },
        'dns4-domain': { type: 'string' },
        'discv5-udp-port': { type: 'string' },
        'discv5-bootstrap': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    const msg = (err as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1] ?? 'arguments';
    throw new ConfigError(flag, msg.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  const config: KeeperConfig = { ...base };
  if (v['data-dir'] !== undefined) config.dataDir = v['data-dir'];
  if (v['pubsub-topic'] !== undefined) config.pubsubTopics = [...new Set(v['pubsub-topic'])];
  if (v['content-topic'] !== undefined) config.contentTopics = [...new Set(v['content-topic'])];
  if (v.listen !== undefined) config.listen = v.listen;
  if (v.peer !== undefined) config.peers = v.peer;
  if (v['store-peer'] !== undefined) config.storePeers = v['store-peer'];
  if (v.community !== undefined) config.communityRefs = v.community.map((ref) => ref.trim());
  if (v['fill-quorum'] !== undefined) config.fillQuorum = parsePositiveInt('--fill-quorum', v['fill-quorum'], 16);
  if (v.retention !== undefined) config.retentionMs = parseDuration('--retention', v.retention);
  if (v.quota !== undefined) config.quotaBytes = parseSize('--quota', v.quota);
  config.explicit = [
    ...(v.quota !== undefined ? (['quotaBytes'] as const) : []),
    ...(v.retention !== undefined ? (['retentionMs'] as const) : []),
  ];
  if (v.api !== undefined) config.api = parseHostPort('--api', v.api);
  if (v.heartbeat !== undefined) config.heartbeatMs = parseDuration('--heartbeat', v.heartbeat);
  if (v['fill-interval'] !== undefined) config.fillIntervalMs = parseDuration('--fill-interval', v['fill-interval']);
  if (v['keepers-announce-interval'] !== undefined) {
    config.keepersAnnounceIntervalMs = parseDuration('--keepers-announce-interval', v['keepers-announce-interval']);
  }
  if (v['check-interval'] !== undefined) config.checkIntervalMs = parseDuration('--check-interval', v['check-interval']);
  if (v['store-sync-interval'] !== undefined) {
    const ms = parseSeconds('--store-sync-interval', v['store-sync-interval']);
    if (v['check-interval'] !== undefined && ms !== config.checkIntervalMs) {
      throw new ConfigError('--store-sync-interval', 'is another name for --check-interval; give one, or both the same');
    }
    config.checkIntervalMs = ms;
  }
  if (v['store-sync'] !== undefined) config.storeSync = parseBool('--store-sync', v['store-sync']);
  if (v['store-sync-range'] !== undefined) config.storeSyncRangeMs = parseSeconds('--store-sync-range', v['store-sync-range']);
  if (v['store-rate'] !== undefined) {
    const perSecond = parsePositiveInt('--store-rate', v['store-rate'], 1_000_000);
    config.storeRateLimit = { perSecond, capacity: perSecond * 4 };
  }
  if (v.settle !== undefined) config.settleMs = parseDuration('--settle', v.settle);
  if (v['store-sync-relay-jitter'] !== undefined) {
    const ms = parseSeconds('--store-sync-relay-jitter', v['store-sync-relay-jitter']);
    if (v.settle !== undefined && ms !== config.settleMs) throw new ConfigError('--store-sync-relay-jitter', 'is another name for --settle; give one, or both the same');
    config.settleMs = ms;
  }
  if (v['max-message-size'] !== undefined) config.maxMessageBytes = parseSize('--max-message-size', v['max-message-size'], 1024);
  if (v['protected-shard'] !== undefined) config.protectedShards = v['protected-shard'];
  if (v.rest !== undefined) config.rest = parseHostPort('--rest', v.rest);
  if (v['clock-margin'] !== undefined) config.clockMarginMs = parseDuration('--clock-margin', v['clock-margin']);
  if (v['store-idle-timeout'] !== undefined) config.storeIdleTimeoutMs = parseDuration('--store-idle-timeout', v['store-idle-timeout']);
  if (v['no-discovery']) config.discovery = false;
  if (v.nat !== undefined) config.nat = parseNat('--nat', v.nat);
  if (v.announce !== undefined) config.announce = v.announce.map((a) => parseAnnounce('--announce', a));
  if (v['dns4-domain'] !== undefined) config.dns4Domain = parseDomain('--dns4-domain', v['dns4-domain']);
  if (v['discv5-udp-port'] !== undefined) config.discv5UdpPort = parseUdpPort('--discv5-udp-port', v['discv5-udp-port']);
  if (v['discv5-bootstrap'] !== undefined) config.discv5Bootstrap = v['discv5-bootstrap'].map((e) => parseEnrFlag('--discv5-bootstrap', e));
  const cluster = config.pubsubTopics.map((t) => parseShardTopic(t)?.clusterId).find((x) => x !== undefined);
  if (cluster !== undefined) config.clusterId = cluster;
  return { kind: 'run', config: validateConfig(config) };
}
