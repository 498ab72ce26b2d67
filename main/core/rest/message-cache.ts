/**
 * nwaku's REST message cache: the messages relay delivered on the subscribed
 * pubsub topics since a client last asked, held until asked for
 * (GET /relay/v1/messages/{topic} takes them out). At most `capacity` messages
 * over all topics (nwaku's --rest-relay-cache-capacity, 50); when full, the
 * one with the oldest timestamp makes room. A message already held is not
 * added again.
 */
import { decodeWakuMessage } from '../message/wire.ts';

export const DEFAULT_CACHE_CAPACITY = 50;

interface Entry {
  pubsubTopic: string;
  /** The encoded WakuMessage, copied out of relay's buffer. */
  data: Uint8Array;
  timestamp: bigint;
}

export class MessageCache {
  readonly capacity: number;
  private readonly topics = new Set<string>();
  private entries: Entry[] = [];

  constructor(capacity = DEFAULT_CACHE_CAPACITY) {
    this.capacity = capacity;
  }

  isSubscribed(pubsubTopic: string): boolean {
    return this.topics.has(pubsubTopic);
  }

  subscribe(pubsubTopic: string): void {
    this.topics.add(pubsubTopic);
  }

  /** Forgets the topic and the messages held for it. */
  unsubscribe(pubsubTopic: string): void {
    this.topics.delete(pubsubTopic);
    this.entries = this.entries.filter((e) => e.pubsubTopic !== pubsubTopic);
  }

  /** Holds an encoded message seen on `pubsubTopic`, if the topic is subscribed. */
  add(pubsubTopic: string, data: Uint8Array): void {
    if (!this.topics.has(pubsubTopic)) return;
    if (this.entries.some((e) => e.pubsubTopic === pubsubTopic && Buffer.compare(e.data, data) === 0)) return;
    let timestamp: bigint;
    try {
      timestamp = decodeWakuMessage(data).timestamp ?? 0n;
    } catch {
      return; // relay accepts only decodable messages; nothing to hold otherwise
    }
    if (this.entries.length >= this.capacity) {
      let oldest = 0;
      this.entries.forEach((e, i) => {
        if (e.timestamp < (this.entries[oldest]?.timestamp ?? e.timestamp)) oldest = i;
      });
      this.entries.splice(oldest, 1);
    }
    this.entries.push({ pubsubTopic, data: Uint8Array.from(data), timestamp });
  }

  /** The messages held for `pubsubTopic`, in arrival order, taken out; undefined when the topic is not subscribed. */
  take(pubsubTopic: string): Uint8Array[] | undefined {
    if (!this.topics.has(pubsubTopic)) return undefined;
    const out = this.entries.filter((e) => e.pubsubTopic === pubsubTopic).map((e) => e.data);
    this.entries = this.entries.filter((e) => e.pubsubTopic !== pubsubTopic);
    return out;
  }

  get size(): number {
    return this.entries.length;
  }
}
