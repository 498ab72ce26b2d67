/**
 * Claims against holdings: what a Keeper's status says it holds verified
 * (online, or filled and verified) checked against the messages it serves.
 */
import { proto_message } from '@waku/proto';
import type { KeeperStatus } from '../../main/contract/contract.ts';
import { messageHash } from '../../main/core/message/hash.ts';
import type { Interval } from '../../main/core/util/intervals.ts';
import { hex, TEST_CONTENT, TEST_PUBSUB } from './messages.ts';
import type { WakuClient } from './waku-client.ts';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { servedHashes } from './store-node.ts';

/** A published message: its hash (hex) and timestamp (ms). */
export interface Sent {
  hash: string;
  ms: number;
}

/** The stretches a status claims held and verified on a topic. */
export function verifiedStretches(s: KeeperStatus, pubsubTopic = TEST_PUBSUB): Interval[] {
  const h = s.history.topics.find((t) => t.pubsubTopic === pubsubTopic);
  return (h?.segments ?? []).filter((x) => x.kind === 'online' || x.kind === 'verified').map((x) => ({ start: x.startMs, end: x.endMs }));
}

/** Each published message inside a claimed stretch that the Keeper does not hold, described. */
export function claimsAboveHoldings(s: KeeperStatus, sent: readonly Sent[], held: ReadonlySet<string>, pubsubTopic = TEST_PUBSUB): string[] {
  const claimed = verifiedStretches(s, pubsubTopic);
  return sent
    .filter((m) => !held.has(m.hash) && claimed.some((c) => m.ms >= c.start && m.ms < c.end))
    .map((m) => `claims ${new Date(m.ms).toISOString()} verified but lacks ${m.hash.slice(0, 12)}`);
}

/**
 * Publishes a message every `everyMs` through a js-waku client's relay, and
 * records each that reached at least one Keeper (one sent while every Keeper
 * the client knows is down reached nobody, and is not published).
 */
export class Publisher {
  readonly sent: Sent[] = [];
  private readonly client: WakuClient;
  private readonly everyMs: number;
  private readonly max: number;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(client: WakuClient, opts: { everyMs: number; max?: number }) {
    this.client = client;
    this.everyMs = opts.everyMs;
    this.max = opts.max ?? 100_000;
  }

  start(): void {
    this.running = (async () => {
      for (let i = 0; !this.stopped && i < this.max; i++) {
        const contentTopic = TEST_CONTENT[i % TEST_CONTENT.length] ?? '';
        const payload = new TextEncoder().encode(`published ${i}`);
        const timestamp = BigInt(Date.now()) * 1_000_000n;
        const bytes = proto_message.WakuMessage.encode({ payload, contentTopic, timestamp, version: 0 });
        const { recipients } = await this.client.relay.publish(TEST_PUBSUB, bytes).catch(() => ({ recipients: [] }));
        if (recipients.length > 0) this.sent.push({ hash: hex(messageHash(TEST_PUBSUB, { payload, contentTopic, timestamp })), ms: Number(timestamp / 1_000_000n) });
        await new Promise((r) => setTimeout(r, this.everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/** A Keeper as the watcher sees it: its address, and its status while it is up (null while down). */
export interface Watched {
  addr: string;
  status: (() => Promise<KeeperStatus>) | null;
}

/**
 * Samples Keepers' claims against their holdings: each up Keeper's status
 * against what it serves to a bystander, for every published message.
 */
export class ClaimWatcher {
  readonly violations: string[] = [];
  samples = 0;
  private readonly bystander: Pick<Libp2p, 'dialProtocol'>;
  private readonly sent: readonly Sent[];
  private readonly t0 = Date.now();

  constructor(bystander: Pick<Libp2p, 'dialProtocol'>, sent: readonly Sent[]) {
    this.bystander = bystander;
    this.sent = sent;
  }

  async sample(keepers: readonly Watched[]): Promise<void> {
    for (const [i, k] of keepers.entries()) {
      if (k.status === null) continue;
      const s = await k.status().catch(() => null);
      const held = await servedHashes(this.bystander, multiaddr(k.addr), TEST_PUBSUB).catch(() => null);
      if (s === null || held === null) continue;
      this.samples++;
      for (const v of claimsAboveHoldings(s, this.sent, new Set(held))) this.violations.push(`K${i} at +${Date.now() - this.t0} ms: ${v}`);
    }
  }
}
