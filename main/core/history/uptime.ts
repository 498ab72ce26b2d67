/**
 * Uptime, per kept scope: while the node is subscribed and has a relay peer on
 * a scope's pubsub topic, a heartbeat keeps extending that scope's open
 * `online` interval. A scope's online time starts when it is first kept (a
 * community added later has none before). A clean stop closes it at the stop;
 * after a crash the last heartbeat bounds it, so coverage never claims time
 * the node was down.
 */
import type { HistoryStore } from './history-store.ts';

export interface UptimeOptions {
  heartbeatMs: number;
  now?: () => number;
  /** Called when a pubsub topic goes online or offline. */
  onChange?: (pubsubTopic: string, online: boolean) => void;
}

/** A kept scope as uptime tracks it: its record's id and its pubsub topic. */
export interface TrackedScope {
  id: number;
  pubsubTopic: string;
}

export class UptimeTracker {
  private readonly store: HistoryStore;
  private readonly scopes: () => readonly TrackedScope[];
  private readonly isOnline: (pubsubTopic: string) => boolean;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly onChange: UptimeOptions['onChange'];
  /** The open online interval of each scope that is online now, by scope id. */
  private readonly open = new Map<number, { pubsubTopic: string; interval: number }>();
  /** The pubsub topics seen online at the last beat. */
  private readonly onlineTopics = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(store: HistoryStore, scopes: () => readonly TrackedScope[], isOnline: (pubsubTopic: string) => boolean, opts: UptimeOptions) {
    this.store = store;
    this.scopes = scopes;
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

  /** Records the current state of every kept scope; runs on each heartbeat (and when the kept scopes change). */
  beat(): void {
    const now = this.now();
    const scopes = this.scopes();
    // A scope no longer kept keeps the end of its last online beat.
    for (const id of this.open.keys()) if (!scopes.some((s) => s.id === id)) this.open.delete(id);
    const topics = new Set(scopes.map((s) => s.pubsubTopic));
    const online = new Map([...topics].map((t) => [t, this.isOnline(t)]));
    for (const s of scopes) {
      const open = this.open.get(s.id);
      if (online.get(s.pubsubTopic) === true) {
        if (open === undefined) this.open.set(s.id, { pubsubTopic: s.pubsubTopic, interval: this.store.openOnline(s.id, now) });
        else this.store.extend(open.interval, now);
      } else if (open !== undefined) {
        // The interval keeps the end of the last beat that saw the topic online.
        this.open.delete(s.id);
      }
    }
    for (const [topic, isOnline] of online) {
      if (isOnline && !this.onlineTopics.has(topic)) {
        this.onlineTopics.add(topic);
        this.onChange?.(topic, true);
      } else if (!isOnline && this.onlineTopics.has(topic)) {
        this.onlineTopics.delete(topic);
        this.onChange?.(topic, false);
      }
    }
    for (const topic of this.onlineTopics) if (!topics.has(topic)) this.onlineTopics.delete(topic);
  }

  /** Closes every open interval: at the current time if the topic is still online. Call before relay stops. */
  stop(): void {
    clearInterval(this.timer);
    const now = this.now();
    for (const { pubsubTopic, interval } of this.open.values()) if (this.isOnline(pubsubTopic)) this.store.extend(interval, now);
    this.open.clear();
  }
}
