/**
 * Relay's side of the data flow: the node subscribes to the planned pubsub
 * topics, gossipsub hands every message to this validator, and what passes
 * goes on to the archive writer — node → message → archive, nothing between.
 * What is refused here is what nwaku's relay refuses (undecodable, oversized,
 * badly signed on a protected shard); what only its archive refuses (too far
 * from the clock, no timestamp) is relayed on and not kept.
 * The intake also keeps the relayed topics, gossipsub's validators and the
 * announced Waku metadata shards in step with the topic plan.
 */
import { TopicValidatorResult } from '@libp2p/interface';
import type { RejectReason } from '../../contract/contract.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { TopicPlan } from '../communities/topic-plan.ts';
import { decodeForArchive, RELAYED_NOT_KEPT } from '../message/decode.ts';
import type { ArchiveMessage } from '../message/message.ts';
import type { RuntimeSettings, SettingsChange } from '../settings/runtime-settings.ts';
import { nowNs } from '../util/time.ts';
import { foreground } from '../util/loop-pressure.ts';
import type { KeeperLibp2p } from './libp2p.ts';

export interface IntakeCounters {
  /** Messages relay delivered to the validator. */
  received: number;
  /** Relayed but not archived: content topics this Keeper does not keep. */
  notKept: number;
  rejected: Partial<Record<RejectReason, number>>;
}

/** Told of every message relay accepts (after the checks; whether or not it is kept), with its topic and bytes. */
/** `contentTopic`: as relay's intake decoded it, when the message was well-formed (listeners need not decode to filter). */
export type AcceptedListener = (pubsubTopic: string, data: Uint8Array, contentTopic: string | undefined) => void;

export interface RelayIntakeOptions {
  /** Tests only: relay the message but do not store it, as if relay had lost it. */
  drop?: ((message: ArchiveMessage) => boolean) | undefined;
}

export class RelayIntake {
  private readonly node: KeeperLibp2p;
  private readonly plan: TopicPlan;
  private readonly settings: RuntimeSettings;
  private readonly writer: ArchiveWriter;
  private readonly drop: RelayIntakeOptions['drop'];
  private readonly counts: IntakeCounters = { received: 0, notKept: 0, rejected: {} };
  private readonly subscribed = new Set<string>();
  private readonly listeners = new Set<AcceptedListener>();
  private closed = false;

  constructor(node: KeeperLibp2p, settings: RuntimeSettings, writer: ArchiveWriter, opts: RelayIntakeOptions = {}) {
    this.node = node;
    this.settings = settings;
    this.plan = settings.plan;
    this.writer = writer;
    this.drop = opts.drop;
  }

  /** Installs the validators; call before the node starts, so no message passes unchecked. */
  attach(): void {
    for (const topic of this.plan.pubsubTopics) this.validate(topic);
    this.settings.on('change', this.onSettings);
  }

  /** Subscribes to every planned topic; call once the node has started. */
  subscribe(): void {
    this.sync();
  }

  /** From now on no topic counts as online: the node is stopping. */
  close(): void {
    this.closed = true;
    this.settings.off('change', this.onSettings);
  }

  /**
   * What gossipsub's validator calls for each message on a relayed topic.
   * Accept means relay it on; the message is archived if it is valid and its
   * content topic kept. Ephemeral messages are valid traffic: relayed, never kept.
   */
  accept(pubsubTopic: string, data: Uint8Array): TopicValidatorResult {
    foreground();
    const { result, contentTopic } = this.judge(pubsubTopic, data);
    if (result === TopicValidatorResult.Accept && this.listeners.size > 0) {
      for (const listener of this.listeners) {
        try {
          listener(pubsubTopic, data, contentTopic);
        } catch {
          // A listener's fault is its own: relay goes on.
        }
      }
    }
    return result;
  }

  /** Adds a listener for accepted messages (nwaku's REST message cache); returns how to remove it. */
  onAccepted(listener: AcceptedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private judge(pubsubTopic: string, data: Uint8Array): { result: TopicValidatorResult; contentTopic?: string } {
    this.counts.received++;
    const decoded = decodeForArchive(pubsubTopic, data, this.settings.rules, nowNs());
    if (!decoded.ok) {
      if (decoded.reason === 'ephemeral') return { result: TopicValidatorResult.Accept };
      this.counts.rejected[decoded.reason] = (this.counts.rejected[decoded.reason] ?? 0) + 1;
      // As nwaku: what its relay forwards but its archive refuses is relayed, not kept.
      return { result: RELAYED_NOT_KEPT.has(decoded.reason) ? TopicValidatorResult.Accept : TopicValidatorResult.Reject };
    }
    const accepted = { result: TopicValidatorResult.Accept, contentTopic: decoded.message.contentTopic };
    if (!this.plan.keeps(decoded.message.contentTopic)) {
      this.counts.notKept++;
      return accepted;
    }
    if (this.drop?.(decoded.message) === true) return accepted;
    this.writer.push(decoded.message);
    return accepted;
  }

  counters(): IntakeCounters {
    return { ...this.counts, rejected: { ...this.counts.rejected } };
  }

  /** Peers subscribed to `topic` with us. */
  relayPeers(topic: string): number {
    return this.node.services.relay.getSubscribers(topic).length;
  }

  /** Distinct relay peers over every planned topic. */
  relayPeerCount(): number {
    const peers = new Set<string>();
    for (const t of this.plan.pubsubTopics) for (const p of this.node.services.relay.getSubscribers(t)) peers.add(p.toString());
    return peers.size;
  }

  /** Relay covers `topic` now: subscribed, with a relay peer on it, and not stopping. */
  isOnline(topic: string): boolean {
    return !this.closed && this.subscribed.has(topic) && this.relayPeers(topic) > 0;
  }

  private readonly onSettings = (change: SettingsChange): void => {
    if (change.kind === 'topics') this.sync();
  };

  private validate(topic: string): void {
    this.node.services.relay.topicValidators.set(topic, (_peer, msg) => this.accept(topic, msg.data));
  }

  /** Relays exactly the planned topics and announces their shards. */
  private sync(): void {
    const relay = this.node.services.relay;
    const planned = new Set(this.plan.pubsubTopics);
    for (const topic of planned) {
      if (this.subscribed.has(topic)) continue;
      this.validate(topic);
      relay.subscribe(topic);
      this.subscribed.add(topic);
    }
    for (const topic of [...this.subscribed]) {
      if (planned.has(topic)) continue;
      relay.unsubscribe(topic);
      relay.topicValidators.delete(topic);
      this.subscribed.delete(topic);
    }
    this.node.services.metadata.setShards(this.plan.shards);
  }
}
