/**
 * The history tables (scopes, coverage, store peers) with their named
 * statements. They live in the archive's database, beside the messages they
 * describe. Coverage is recorded per scope (scope.ts): a kept community, or a
 * whole pubsub topic.
 */
import type { Database } from 'better-sqlite3';
import type { Archive } from '../archive/archive.ts';
import type { Interval } from '../util/intervals.ts';
import type { StorePeerSource, StorePeerStatus } from '../../contract/contract.ts';
import { contains, contentKey, normalizeTopics } from './scope.ts';
import type { Scope } from './scope.ts';

/** A store peer's kept record: its status without what is only live (connection, backoff, trust now). */
export type StorePeerRecord = Omit<StorePeerStatus, 'connected' | 'backoffUntilMs' | 'trusted'>;

export type CoverageKind = 'online' | 'filled';

export interface CoverageRow extends Interval {
  id: number;
  scopeId: number;
  pubsubTopic: string;
  kind: CoverageKind;
  /** filled: held by at least the quorum of peers that attested holding it. */
  verified: boolean;
  /** filled: the peers that filled it attested holding it. */
  attested: boolean;
  peers: string[];
  messages: number;
  recordedMs: number;
}

/** A stretch of a filled window, as it is recorded. */
export interface FilledPart extends Interval {
  verified: boolean;
  attested: boolean;
  peers: string[];
}

/** A scope as the archive records it. */
export interface ScopeRecord extends Scope {
  id: number;
  /** The community's name when it was last kept; null for a topic's own scope. */
  name: string | null;
  keptSinceMs: number;
}

interface RawScope {
  id: number;
  pubsub_topic: string;
  content_topics: string | null;
  name: string | null;
  kept_since_ms: number;
}

interface RawCoverage {
  id: number;
  scope_id: number;
  pubsub_topic: string;
  kind: CoverageKind;
  start_ms: number;
  end_ms: number;
  verified: number;
  attested: number;
  peers: string;
  messages: number;
  recorded_ms: number;
}

function prepareStatements(db: Database) {
  return {
    allScopes: db.prepare('SELECT * FROM scopes ORDER BY id'),
    scopeById: db.prepare('SELECT * FROM scopes WHERE id = ?'),
    scopeByTopics: db.prepare('SELECT * FROM scopes WHERE pubsub_topic = ? AND content_topics = ?'),
    insertScope: db.prepare('INSERT INTO scopes (pubsub_topic, content_topics, name, kept_since_ms) VALUES (?, ?, ?, ?)'),
    renameScope: db.prepare('UPDATE scopes SET name = ? WHERE id = ?'),
    deleteScope: db.prepare('DELETE FROM scopes WHERE id = ?'),
    deleteCoverageOfScope: db.prepare('DELETE FROM coverage WHERE scope_id = ?'),
    moveCoverage: db.prepare('UPDATE coverage SET scope_id = ? WHERE scope_id = ?'),
    copyCoverage: db.prepare(
      `INSERT INTO coverage (scope_id, pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms)
       SELECT ?, pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms FROM coverage WHERE scope_id = ?`,
    ),
    copyCoverageFrom: db.prepare(
      `INSERT INTO coverage (scope_id, pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms)
       SELECT ?, pubsub_topic, kind, MAX(start_ms, ?), end_ms, verified, attested, peers, messages, recorded_ms
         FROM coverage WHERE scope_id = ? AND end_ms > ?`,
    ),
    insertCoverage: db.prepare(
      `INSERT INTO coverage (scope_id, pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    extendCoverage: db.prepare('UPDATE coverage SET end_ms = ? WHERE id = ? AND end_ms < ?'),
    coverageOfScope: db.prepare('SELECT * FROM coverage WHERE scope_id = ? ORDER BY start_ms'),
    unverifiedOverlapping: db.prepare(`SELECT * FROM coverage WHERE scope_id = ? AND kind = 'filled' AND verified = 0 AND start_ms < ? AND end_ms > ?`),
    deleteCoverage: db.prepare('DELETE FROM coverage WHERE id = ?'),
    pruneCoverage: db.prepare('DELETE FROM coverage WHERE end_ms < ?'),
    allPeers: db.prepare('SELECT * FROM store_peers'),
    savePeer: db.prepare(
      `INSERT INTO store_peers (peer_id, addrs, source, rtt_ms, last_success_ms, last_failure_ms, failures,
                                provided, rejected, agreement, last_agreement_ms, last_error,
                                attests, refused, standing_lost_ms, standing_reason)
       VALUES (@peerId, @addrs, @source, @rttMs, @lastSuccessMs, @lastFailureMs, @failures,
               @provided, @rejected, @agreement, @lastAgreementMs, @lastError,
               @attests, @refused, @standingLostMs, @standingReason)
       ON CONFLICT (peer_id) DO UPDATE SET
         addrs = excluded.addrs, source = excluded.source, rtt_ms = excluded.rtt_ms,
         last_success_ms = excluded.last_success_ms, last_failure_ms = excluded.last_failure_ms,
         failures = excluded.failures, provided = excluded.provided, rejected = excluded.rejected,
         agreement = excluded.agreement, last_agreement_ms = excluded.last_agreement_ms,
         last_error = excluded.last_error, attests = excluded.attests, refused = excluded.refused,
         standing_lost_ms = excluded.standing_lost_ms, standing_reason = excluded.standing_reason`,
    ),
    deletePeer: db.prepare('DELETE FROM store_peers WHERE peer_id = ?'),
  };
}

export class HistoryStore {
  readonly archive: Archive;
  private readonly s: ReturnType<typeof prepareStatements>;

  constructor(archive: Archive) {
    this.archive = archive;
    this.s = prepareStatements(archive.connection);
  }

  // ---- scopes -------------------------------------------------------------------

  /** Every recorded scope; those recorded before scopes were (content topics unknown) are left out until settled. */
  scopes(): ScopeRecord[] {
    return (this.s.allScopes.all() as RawScope[]).filter((r) => r.content_topics !== null).map(scopeRecord);
  }

  /** The record of `scope`, made now (kept since `nowMs`) when there is none; a community's name follows the settings. */
  ensureScope(scope: Scope, name: string | null, nowMs: number): ScopeRecord {
    const key = contentKey(scope);
    let raw = this.s.scopeByTopics.get(scope.pubsubTopic, key) as RawScope | undefined;
    if (raw === undefined) {
      const info = this.s.insertScope.run(scope.pubsubTopic, key, name, nowMs);
      return { id: Number(info.lastInsertRowid), pubsubTopic: scope.pubsubTopic, contentTopics: normalizeTopics(scope.contentTopics), name, keptSinceMs: nowMs };
    }
    if (raw.name !== name) {
      this.s.renameScope.run(name, raw.id);
      raw = { ...raw, name };
    }
    return scopeRecord(raw);
  }

  /** Stops recording a scope: it and its coverage go (a community no longer kept). */
  removeScope(id: number): void {
    this.archive.transaction(() => {
      this.s.deleteCoverageOfScope.run(id);
      this.s.deleteScope.run(id);
    });
  }

  /**
   * Settles coverage recorded before scopes were (schema 4): it is of what was
   * kept on its pubsub topic then. Relay archived every content topic when no
   * content topic was kept, and only the kept ones otherwise; the settings the
   * Keeper starts with after the upgrade are the only record of which that was.
   * Kept whole now: the coverage is the topic's, and so every community's on it.
   * Kept by content topics: it holds each scope kept on the topic now (and no
   * community added later) — but only from that scope's oldest message on:
   * schema 4 counted a community added to a kept topic as covered since the
   * topic was, so the stretch before a community's first message is asked
   * of peers again rather than believed. A topic kept no more stays unsettled
   * until it is.
   */
  settleLegacy(kept: readonly Scope[], nowMs: number): void {
    const legacy = (this.s.allScopes.all() as RawScope[]).filter((r) => r.content_topics === null);
    if (legacy.length === 0) return;
    this.archive.transaction(() => {
      for (const old of legacy) {
        const targets = kept.filter((k) => k.pubsubTopic === old.pubsub_topic);
        if (targets.length === 0) continue;
        for (const t of targets) {
          const record = this.ensureScope(t, null, Math.min(nowMs, old.kept_since_ms));
          if (t.contentTopics.length === 0) {
            this.s.copyCoverage.run(record.id, old.id);
            continue;
          }
          const oldest = this.archive.contentStats(t.pubsubTopic, t.contentTopics).oldest;
          if (oldest === null) continue;
          const fromMs = Number(oldest / 1_000_000n);
          this.s.copyCoverageFrom.run(record.id, fromMs, old.id, fromMs);
        }
        this.s.deleteCoverageOfScope.run(old.id);
        this.s.deleteScope.run(old.id);
      }
    });
  }

  /** Copies a scope's coverage to each of `heirs`, then removes it: what it vouched for stays vouched for, in their own names. */
  handDown(id: number, heirs: readonly number[]): void {
    this.archive.transaction(() => {
      for (const heir of heirs) if (heir !== id) this.s.copyCoverage.run(heir, id);
      this.s.deleteCoverageOfScope.run(id);
      this.s.deleteScope.run(id);
    });
  }

  /** The id of a pubsub topic's whole-topic scope, made when there is none. */
  private wholeTopicId(pubsubTopic: string, nowMs: number): number {
    return this.ensureScope({ pubsubTopic, contentTopics: [] }, null, nowMs).id;
  }

  // ---- coverage ---------------------------------------------------------------

  /** Opens an online interval [startMs, startMs] of a scope (by id, or a pubsub topic's whole-topic scope); the heartbeat extends it. */
  openOnline(scope: number | string, startMs: number): number {
    const scopeId = typeof scope === 'number' ? scope : this.wholeTopicId(scope, startMs);
    const info = this.s.insertCoverage.run(scopeId, this.topicOf(scopeId), 'online', startMs, startMs, 1, 1, '[]', 0, startMs);
    return Number(info.lastInsertRowid);
  }

  /** Moves an interval's end forward (never back). */
  extend(id: number, endMs: number): void {
    this.s.extendCoverage.run(endMs, id, endMs);
  }

  /** The coverage recorded for one scope (by id, or a pubsub topic's whole-topic scope). */
  coverage(scope: number | string): CoverageRow[] {
    const scopeId = typeof scope === 'number' ? scope : (this.s.scopeByTopics.get(scope, '[]') as RawScope | undefined)?.id;
    if (scopeId === undefined) return [];
    return (this.s.coverageOfScope.all(scopeId) as RawCoverage[]).map(coverageRow);
  }

  /**
   * What vouches for `scope`: its own coverage and that of every recorded scope
   * containing it (the whole topic, a superset), in time order.
   */
  coverageOf(scope: Scope): CoverageRow[] {
    return this.scopes()
      .filter((r) => contains(r, scope))
      .flatMap((r) => this.coverage(r.id))
      .sort((a, b) => a.start - b.start);
  }

  /**
   * Records what a fill of `window` holds now, part by part, in one
   * transaction. The scope's unverified records inside the window are
   * replaced: `parts` carries on what of them still holds.
   */
  completeWindow(scopeId: number, window: Interval, parts: readonly FilledPart[], messages: number): void {
    const now = Date.now();
    const pubsubTopic = this.topicOf(scopeId);
    this.archive.transaction(() => {
      // What was held unverified in the window is replaced by what the window's answers say; the
      // rest of such a row stays (a row stored earlier may start before the window, which retention moved on).
      for (const r of this.s.unverifiedOverlapping.all(scopeId, window.end, window.start) as RawCoverage[]) {
        this.s.deleteCoverage.run(r.id);
        const remnants = [
          { start: r.start_ms, end: Math.min(r.end_ms, window.start), messages: r.messages },
          { start: Math.max(r.start_ms, window.end), end: r.end_ms, messages: 0 },
        ];
        for (const x of remnants) {
          if (x.end > x.start) this.s.insertCoverage.run(scopeId, r.pubsub_topic, 'filled', x.start, x.end, 0, r.attested, r.peers, x.messages, r.recorded_ms);
        }
      }
      parts.forEach((p, i) => {
        const n = i === 0 ? messages : 0;
        this.s.insertCoverage.run(scopeId, pubsubTopic, 'filled', p.start, p.end, p.verified ? 1 : 0, p.attested ? 1 : 0, JSON.stringify(p.peers), n, now);
      });
    });
  }

  private topicOf(scopeId: number): string {
    const raw = this.s.scopeById.get(scopeId) as RawScope | undefined;
    if (raw === undefined) throw new Error(`no coverage scope ${scopeId}`);
    return raw.pubsub_topic;
  }

  /** Forgets coverage that ended before `beforeMs` (outside retention). */
  prune(beforeMs: number): void {
    this.s.pruneCoverage.run(beforeMs);
  }

  // ---- store peers ----------------------------------------------------------------

  loadPeers(): StorePeerRecord[] {
    return (this.s.allPeers.all() as Record<string, unknown>[]).map((r) => ({
      peerId: r.peer_id as string,
      addrs: JSON.parse(r.addrs as string) as string[],
      source: r.source as StorePeerSource,
      rttMs: r.rtt_ms as number | null,
      lastSuccessMs: r.last_success_ms as number | null,
      lastFailureMs: r.last_failure_ms as number | null,
      failures: r.failures as number,
      provided: r.provided as number,
      rejected: r.rejected as number,
      agreement: r.agreement as number | null,
      lastAgreementMs: r.last_agreement_ms as number | null,
      lastError: r.last_error as string | null,
      attests: r.attests === null ? null : r.attests === 1,
      refused: r.refused as number,
      standingLostMs: r.standing_lost_ms as number | null,
      standingReason: r.standing_reason as string | null,
    }));
  }

  savePeer(p: StorePeerRecord): void {
    this.s.savePeer.run({ ...p, addrs: JSON.stringify(p.addrs), attests: p.attests === null ? null : p.attests ? 1 : 0 });
  }

  deletePeer(peerId: string): void {
    this.s.deletePeer.run(peerId);
  }
}

function scopeRecord(r: RawScope): ScopeRecord {
  return {
    id: r.id,
    pubsubTopic: r.pubsub_topic,
    contentTopics: r.content_topics === null ? [] : (JSON.parse(r.content_topics) as string[]),
    name: r.name,
    keptSinceMs: r.kept_since_ms,
  };
}

function coverageRow(r: RawCoverage): CoverageRow {
  return {
    id: r.id,
    scopeId: r.scope_id,
    pubsubTopic: r.pubsub_topic,
    kind: r.kind,
    start: r.start_ms,
    end: r.end_ms,
    verified: r.verified === 1,
    attested: r.attested === 1,
    peers: JSON.parse(r.peers) as string[],
    messages: r.messages,
    recordedMs: r.recorded_ms,
  };
}
