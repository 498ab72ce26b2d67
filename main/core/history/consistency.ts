/**
 * Consistency checks while online: relay can drop messages even while the node
 * is up. Every few minutes each kept topic is compared with healthy store peers.
 * A peer that speaks Waku Sync (its identify lists reconciliation) is synced
 * with: over the whole retention window (cut at the quota) when it is a
 * Keeper (it speaks the coverage protocol), over nwaku's range (`--store-sync-range`, its hour)
 * otherwise; what either side lacks crosses over transfer, checked and stored
 * through the writer by the sync service. With the others — or one that
 * refuses the session or cannot be synced with — the hash set of the latest
 * settled stretch is compared through hash-only Store v3 queries, and what a
 * peer holds that this archive lacks is fetched by hash, as filling lists and
 * fetches: plain Store v3, so it works against any store node.
 */
import type { ConsistencyStatus, SyncSessionStatus } from '../../contract/contract.ts';
import type { SyncService } from '../sync/service.ts';
import { emptyCounters } from '../sync/tally.ts';
import type { SyncResult } from '../sync/tally.ts';
import { scopeKey } from './scope.ts';
import { syncScopes } from './sync-scope.ts';
import type { SyncScope } from './sync-scope.ts';
import { toHex } from '../message/hash.ts';
import type { HistoryDeps } from './deps.ts';
import { fetchBodies } from './fetch-bodies.ts';
import { listHashes } from './list-hashes.ts';
import type { QueryFn } from './peer-request.ts';
import { msToNs } from '../util/time.ts';

/** Waku Sync as the check uses it. */
export interface CheckSync {
  service: Pick<SyncService, 'syncWith' | 'counters'>;
  /** Whether the peer speaks reconciliation, as its identify said. */
  speaks: (peerId: string) => boolean;
  /** What is synced with a peer that is not a Keeper: this much before the end. */
  rangeMs: number;
  /** Where what is synced with a Keeper begins: the retention window's start, cut at the quota (history the quota would drop again is not asked for). */
  windowStartMs: () => number;
}

export interface ConsistencyOptions {
  intervalMs: number;
  settleMs: number;
  isOnline: (pubsubTopic: string) => boolean;
  /** Absent: sync is off, every peer is compared by hash listings. */
  sync?: CheckSync | undefined;
  /** Peers compared per check. */
  peersPerCheck?: number;
  maxPages?: number;
  now?: () => number;
}

export class ConsistencyChecker {
  private readonly d: HistoryDeps;
  private readonly o: Required<Omit<ConsistencyOptions, 'sync'>>;
  private readonly sync: CheckSync | undefined;
  private readonly checkedUntil = new Map<string, number>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly state: Omit<ConsistencyStatus, 'sync'> = { lastRunMs: null, recovered: 0, checks: 0, compared: { sync: 0, hashes: 0 } };
  private lastSync: SyncSessionStatus | null = null;

  constructor(deps: HistoryDeps, opts: ConsistencyOptions) {
    this.d = deps;
    const { sync, ...rest } = opts;
    this.o = { peersPerCheck: 2, maxPages: 2000, now: Date.now, ...rest };
    this.sync = sync;
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
    const counters = this.sync?.service.counters();
    const sync = counters === undefined ? emptyConsistencyStatus().sync : { enabled: true, ...counters, last: this.lastSync };
    return { ...this.state, compared: { ...this.state.compared }, sync };
  }

  /** One check of every online topic. */
  async run(): Promise<void> {
    const end = this.o.now() - this.o.settleMs;
    for (const scope of syncScopes(this.d.topics)) {
      const topic = scope.pubsubTopic;
      // Several communities on one topic are each checked from where their own last check ended.
      const key = scopeKey(scope);
      if (this.abort.signal.aborted) return;
      if (!this.o.isOnline(topic)) {
        this.checkedUntil.delete(key);
        continue;
      }
      const start = this.checkedUntil.get(key) ?? end - this.o.intervalMs;
      if (end <= start) continue;
      try {
        if (await this.check(scope, start, end)) this.checkedUntil.set(key, end);
      } catch (err) {
        this.d.emit({ event: 'warning', message: `consistency check of ${topic} failed: ${String(err)}` });
      }
    }
    this.state.lastRunMs = this.o.now();
  }

  /**
   * Compares a topic with up to `peersPerCheck` peers: by sync with those that
   * speak it, else [startMs, endMs] by hash listings. True when one answered.
   */
  private async check(scope: SyncScope, startMs: number, endMs: number): Promise<boolean> {
    const pubsubTopic = scope.pubsubTopic;
    const range = { pubsubTopic, startNs: msToNs(startMs), endNs: msToNs(endMs) };
    let oursRead: Set<string> | undefined;
    let answered = 0;
    let missingTotal = 0;
    let recoveredTotal = 0;
    const peers = this.d.peers.candidates().slice(0, this.o.peersPerCheck);
    for (const { peerId } of peers) {
      if (this.abort.signal.aborted) break;
      if (this.sync?.speaks(peerId) === true) {
        const synced = await this.syncWith(this.sync, peerId, scope);
        if (synced !== undefined) {
          this.state.compared.sync++;
          missingTotal += synced.weLacked;
          recoveredTotal += synced.stored;
          if (synced.answered) answered++;
          continue;
        }
        // Refused, or not reached by sync: hash listings, as with any store node.
      }
      this.state.compared.hashes++;
      oursRead ??= new Set((await this.d.archive.hashesIn(pubsubTopic, range.startNs, range.endNs, scope.contentTopics)).keys());
      const ours = oursRead;
      const query: QueryFn = (req, signal) => this.d.query(peerId, req, signal);
      const listing = await listHashes(query, {
        range,
        contentTopics: [...scope.contentTopics],
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

  /**
   * One sync session with a peer, recorded in its record; undefined when the
   * peer refused it or could not be reached by sync (then hash listings try).
   * A peer that breaks the protocol or a bound is a failure and not asked again
   * by listings in the same check.
   */
  private async syncWith(sync: CheckSync, peerId: string, scope: SyncScope): Promise<{ answered: boolean; weLacked: number; stored: number } | undefined> {
    const keeper = this.d.peers.get(peerId)?.attests === true;
    const now = this.o.now();
    const end = now - this.o.settleMs;
    const start = keeper ? Math.min(end, sync.windowStartMs()) : end - sync.rangeMs;
    const startNs = msToNs(start);
    const endNs = msToNs(end);
    const held = scope.contentTopics.length === 0 ? this.d.archive.countInRange(scope.pubsubTopic, startNs, endNs) : undefined;
    const target = this.d.peers.target(this.d.peers.peerIdOf(peerId));
    let r: SyncResult;
    try {
      r = await sync.service.syncWith(target, { pubsubTopic: scope.pubsubTopic, contentTopics: scope.contentTopics, range: { start, end } });
    } catch (err) {
      this.d.emit({ event: 'warning', message: `sync with ${peerId} could not start: ${String(err)}` });
      return undefined;
    }
    this.lastSync = {
      peerId,
      pubsubTopic: scope.pubsubTopic,
      keeper,
      startMs: start,
      endMs: end,
      outcome: r.outcome,
      reason: r.reason ?? null,
      rounds: r.rounds,
      weLacked: r.weLacked,
      stored: r.stored,
      theyLacked: r.theyLacked,
      pushed: r.pushed,
      undelivered: r.undelivered,
      ms: r.ms,
      atMs: this.o.now(),
    };
    if (r.outcome === 'refused' || r.outcome === 'failed') return undefined;
    if (r.outcome === 'cut-off') {
      this.d.peers.recordFailure(peerId, `sync cut off: ${r.reason ?? 'unknown'}`);
      return { answered: false, weLacked: r.weLacked, stored: r.stored };
    }
    this.d.peers.recordSuccess(peerId, null);
    this.d.peers.recordMessages(peerId, r.received, r.refused);
    if (held !== undefined && r.outcome === 'complete') {
      const union = held + r.weLacked;
      this.d.peers.recordAgreement(peerId, union === 0 ? 1 : Math.max(0, Math.min(1, (held - r.theyLacked) / union)));
    }
    return { answered: true, weLacked: r.weLacked, stored: r.stored };
  }
}

/** The consistency status before any check: also what the status says once the archive is closed. */
export function emptyConsistencyStatus(): ConsistencyStatus {
  return { lastRunMs: null, recovered: 0, checks: 0, compared: { sync: 0, hashes: 0 }, sync: { enabled: false, ...emptyCounters(), last: null } };
}
