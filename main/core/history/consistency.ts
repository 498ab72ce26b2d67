/**
 * Consistency checks while online: relay can drop messages even while the node
 * is up. Every few minutes the hash set of the latest settled stretch is
 * compared with healthy store peers through hash-only Store v3 queries, and what
 * a peer holds that this archive lacks is fetched by hash, as filling lists and
 * fetches. Plain Store v3, so it works against any store node, nwaku included.
 */
import type { ConsistencyStatus } from '../../contract/contract.ts';
import { toHex } from '../message/hash.ts';
import type { HistoryDeps } from './deps.ts';
import { fetchBodies } from './fetch-bodies.ts';
import { listHashes } from './list-hashes.ts';
import type { QueryFn } from './peer-request.ts';
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
    const range = { pubsubTopic, startNs: msToNs(startMs), endNs: msToNs(endMs) };
    const ours = new Set((await this.d.archive.hashesIn(pubsubTopic, range.startNs, range.endNs, this.d.topics.keptContentTopics)).keys());
    let answered = 0;
    let missingTotal = 0;
    let recoveredTotal = 0;
    const peers = this.d.peers.candidates().slice(0, this.o.peersPerCheck);
    for (const { peerId } of peers) {
      const query: QueryFn = (req, signal) => this.d.query(peerId, req, signal);
      const listing = await listHashes(query, {
        range,
        contentTopics: this.d.topics.keptContentTopics,
        slices: 1,
        maxPages: this.o.maxPages,
        signal: this.abort.signal,
      });
      if (!listing.complete) {
        if (!this.abort.signal.aborted) this.d.peers.recordFailure(peerId, listing.error ?? 'incomplete');
        continue;
      }
      answered++;
      this.d.peers.recordSuccess(peerId, listing.rttMs);
      const missing = [...listing.hashes].filter((h) => !ours.has(h));
      missingTotal += missing.length;
      const got = await fetchBodies({
        range,
        rules: this.d.rules,
        wanted: new Map(missing.map((h) => [h, [peerId]])),
        query: () => query,
        store: (messages) => {
          const kept = messages.filter((m) => this.d.topics.keeps(m.contentTopic));
          const inserted = this.d.writer.store(kept);
          if (inserted !== null) {
            recoveredTotal += inserted;
            for (const m of kept) ours.add(toHex(m.hash));
          }
          return inserted;
        },
        parallel: 2,
        signal: this.abort.signal,
      });
      const t = got.tally.get(peerId);
      if (t !== undefined) this.d.peers.recordMessages(peerId, t.delivered, t.rejected);
      const fault = got.faults.get(peerId);
      if (got.forgers.has(peerId)) this.d.peers.loseStanding(peerId, fault ?? 'sent forgeries');
      else if (fault !== undefined) this.d.peers.recordFailure(peerId, fault);
      const shared = [...listing.hashes].filter((h) => ours.has(h)).length;
      const union = new Set([...listing.hashes, ...ours]).size;
      this.d.peers.recordAgreement(peerId, union === 0 ? 1 : shared / union);
    }
    this.state.checks++;
    this.state.recovered += recoveredTotal;
    if (answered > 0) this.d.emit({ event: 'check', pubsubTopic, peers: answered, missing: missingTotal, recovered: recoveredTotal });
    return answered > 0;
  }
}
