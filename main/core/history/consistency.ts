/**
 * Consistency checks while online: relay can drop messages even while the node
 * is up. Every few minutes the hash set of the latest settled stretch is
 * compared with healthy store peers through hash-only Store v3 queries, and what
 * a peer holds that this archive lacks is fetched by hash. Plain Store v3, so it
 * works against any store node, nwaku included.
 */
import type { ConsistencyStatus } from '../../contract/contract.ts';
import { checkStoreEntry } from '../message/store-answer.ts';
import { toHex, fromHex } from '../message/hash.ts';
import { MAX_CONTENT_TOPICS, MAX_PAGE_SIZE, StoreStatus } from '../store/codec.ts';
import { MAX_HASHES } from '../store/query.ts';
import type { HistoryDeps } from './deps.ts';
import { errorMessage } from '../util/errors.ts';
import { msToNs } from '../util/time.ts';

export interface ConsistencyOptions {
  intervalMs: number;
  settleMs: number;
  isOnline: (pubsubTopic: string) => boolean;
  /** Peers compared per check. */
  peersPerCheck?: number;
  maxPages?: number;
  now?: () => number;
}

export class ConsistencyChecker {
  private readonly d: HistoryDeps;
  private readonly o: Required<ConsistencyOptions>;
  private readonly checkedUntil = new Map<string, number>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly state: ConsistencyStatus = { lastRunMs: null, recovered: 0, checks: 0 };

  constructor(deps: HistoryDeps, opts: ConsistencyOptions) {
    this.d = deps;
    this.o = { peersPerCheck: 2, maxPages: 2000, now: Date.now, ...opts };
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.run().finally(() => (this.running = undefined));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  status(): ConsistencyStatus {
    return { ...this.state };
  }

  /** One check of every online topic. */
  async run(): Promise<void> {
    const end = this.o.now() - this.o.settleMs;
    for (const topic of this.d.topics.pubsubTopics) {
      if (this.abort.signal.aborted) return;
      if (!this.o.isOnline(topic)) {
        this.checkedUntil.delete(topic);
        continue;
      }
      const start = this.checkedUntil.get(topic) ?? end - this.o.intervalMs;
      if (end <= start) continue;
      try {
        if (await this.check(topic, start, end)) this.checkedUntil.set(topic, end);
      } catch (err) {
        this.d.emit({ event: 'warning', message: `consistency check of ${topic} failed: ${String(err)}` });
      }
    }
    this.state.lastRunMs = this.o.now();
  }

  /** Compares [startMs, endMs] of a topic with up to `peersPerCheck` peers; true when one answered. */
  private async check(pubsubTopic: string, startMs: number, endMs: number): Promise<boolean> {
    const startNs = msToNs(startMs);
    const endNs = msToNs(endMs);
    const ours = this.ourHashes(pubsubTopic, startNs, endNs);
    let answered = 0;
    let missingTotal = 0;
    let recoveredTotal = 0;
    const peers = this.d.peers.candidates().slice(0, this.o.peersPerCheck);
    for (const peer of peers) {
      let theirs: Set<string>;
      try {
        theirs = await this.theirHashes(peer.peerId, pubsubTopic, startNs, endNs);
      } catch (err) {
        this.d.peers.recordFailure(peer.peerId, errorMessage(err));
        continue;
      }
      answered++;
      this.d.peers.recordSuccess(peer.peerId, null);
      const missing = [...theirs].filter((h) => !ours.has(h));
      missingTotal += missing.length;
      const recovered = await this.fetchMissing(peer.peerId, pubsubTopic, startNs, endNs, missing);
      for (const h of recovered) ours.add(h);
      recoveredTotal += recovered.length;
      const shared = [...theirs].filter((h) => ours.has(h)).length;
      const union = new Set([...theirs, ...ours]).size;
      this.d.peers.recordAgreement(peer.peerId, union === 0 ? 1 : shared / union);
    }
    this.state.checks++;
    this.state.recovered += recoveredTotal;
    if (answered > 0) this.d.emit({ event: 'check', pubsubTopic, peers: answered, missing: missingTotal, recovered: recoveredTotal });
    return answered > 0;
  }

  private ourHashes(pubsubTopic: string, startNs: bigint, endNs: bigint): Set<string> {
    const hashes = new Set<string>();
    const kept = this.d.topics.keptContentTopics;
    const topics = kept.length > 0 ? kept : undefined;
    let cursor;
    for (;;) {
      const page = this.d.archive.query({
        includeData: false,
        pubsubTopic,
        contentTopics: topics,
        timeStart: startNs,
        timeEnd: endNs,
        cursor,
        forward: true,
        limit: 1000,
      });
      for (const r of page.rows) hashes.add(toHex(r.hash));
      const last = page.rows[page.rows.length - 1];
      if (!page.more || last === undefined) return hashes;
      cursor = { timestamp: last.timestamp, hash: last.hash };
    }
  }

  private async theirHashes(peerId: string, pubsubTopic: string, startNs: bigint, endNs: bigint): Promise<Set<string>> {
    const hashes = new Set<string>();
    const chunks: (readonly string[])[] = [];
    const kept = this.d.topics.keptContentTopics;
    for (let i = 0; i < kept.length; i += MAX_CONTENT_TOPICS) chunks.push(kept.slice(i, i + MAX_CONTENT_TOPICS));
    if (chunks.length === 0) chunks.push([]);
    for (const contentTopics of chunks) {
      let cursor: Uint8Array | undefined;
      for (let page = 0; ; page++) {
        if (page >= this.o.maxPages) throw new Error(`gave more than ${this.o.maxPages} pages of hashes`);
        const res = await this.d.query(
          peerId,
          {
            includeData: false,
            pubsubTopic,
            contentTopics: [...contentTopics],
            timeStart: startNs,
            timeEnd: endNs,
            paginationForward: true,
            paginationLimit: BigInt(MAX_PAGE_SIZE),
            paginationCursor: cursor,
          },
          this.abort.signal,
        );
        if (res.statusCode !== StoreStatus.OK) throw new Error(`status ${res.statusCode ?? 'none'}: ${res.statusDesc ?? ''}`);
        for (const m of res.messages) if (m.messageHash?.length === 32) hashes.add(toHex(m.messageHash));
        if (res.paginationCursor === undefined || res.messages.length === 0) break;
        cursor = res.paginationCursor;
      }
    }
    return hashes;
  }

  /** Fetches messages by hash, checks them against the range, stores them; returns the hashes stored. */
  private async fetchMissing(peerId: string, pubsubTopic: string, startNs: bigint, endNs: bigint, missing: string[]): Promise<string[]> {
    const stored: string[] = [];
    for (let i = 0; i < missing.length; i += MAX_HASHES) {
      const batch = missing.slice(i, i + MAX_HASHES);
      const res = await this.d.query(
        peerId,
        { includeData: true, pubsubTopic, messageHashes: batch.map(fromHex), paginationForward: true, paginationLimit: BigInt(MAX_HASHES) },
        this.abort.signal,
      );
      if (res.statusCode !== StoreStatus.OK) break;
      let rejected = 0;
      const valid = [];
      for (const entry of res.messages) {
        const checked = checkStoreEntry(entry, { pubsubTopic, startNs, endNs }, this.d.rules);
        if (!checked.ok || !batch.includes(toHex(checked.message.hash))) rejected++;
        else if (this.d.topics.keeps(checked.message.contentTopic)) valid.push(checked.message);
      }
      if (this.d.writer.store(valid) === null) break;
      this.d.peers.recordMessages(peerId, valid.length, rejected);
      stored.push(...valid.map((m) => toHex(m.hash)));
    }
    return stored;
  }
}
