/**
 * Uptime, per pubsub topic: while the node is subscribed and has a relay peer on
 * a topic, a heartbeat keeps extending that topic's open `online` interval. A
 * clean stop closes it at the stop; after a crash the last heartbeat bounds it,
 * so coverage never claims time the node was down.
 */
import type { HistoryStore } from './history-store.ts';

export interface UptimeOptions {
  heartbeatMs: number;
  now?: () => number;
  /** Called when a topic goes online or offline. */
  onChange?: (pubsubTopic: string, online: boolean) => void;
}

export class UptimeTracker {
  private readonly store: HistoryStore;
  private readonly topics: () => readonly string[];
  private readonly isOnline: (pubsubTopic: string) => boolean;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly onChange: UptimeOptions['onChange'];
  /** The open online interval of each topic that is online now. */
  private readonly open = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(store: HistoryStore, topics: () => readonly string[], isOnline: (pubsubTopic: string) => boolean, opts: UptimeOptions) {
    this.store = store;
    this.topics = topics;
    this.isOnline = isOnline;
    this.heartbeatMs = opts.heartbeatMs;
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange;
  }

  start(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Records the current state of every topic; runs on each heartbeat. */
  beat(): void {
    const now = this.now();
    const topics = this.topics();
    // A topic no longer relayed keeps the end of its last online beat.
    for (const topic of this.open.keys()) if (!topics.includes(topic)) this.open.delete(topic);
    for (const topic of topics) {
      const id = this.open.get(topic);
      if (this.isOnline(topic)) {
        if (id === undefined) {
          this.open.set(topic, this.store.openOnline(topic, now));
          this.onChange?.(topic, true);
        } else {
          this.store.extend(id, now);
        }
      } else if (id !== undefined) {
        // The interval keeps the end of the last beat that saw the topic online.
        this.open.delete(topic);
        this.onChange?.(topic, false);
      }
    }
  }

  /** Closes every open interval: at the current time if the topic is still online. Call before relay stops. */
  stop(): void {
    clearInterval(this.timer);
    const now = this.now();
    for (const [topic, id] of this.open) if (this.isOnline(topic)) this.store.extend(id, now);
    this.open.clear();
  }
}
