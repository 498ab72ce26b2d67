/**
 * The history tables (coverage, store peers) with their named statements.
 * They live in the archive's database, beside the messages they describe.
 */
import type { Database } from 'better-sqlite3';
import type { Archive } from '../archive/archive.ts';
import type { Interval } from '../util/intervals.ts';
import type { StorePeerSource, StorePeerStatus } from '../../contract/contract.ts';

/** A store peer's kept record: its status without what is only live (connection, backoff, trust now). */
export type StorePeerRecord = Omit<StorePeerStatus, 'connected' | 'backoffUntilMs' | 'trusted'>;

export type CoverageKind = 'online' | 'filled';

export interface CoverageRow extends Interval {
  id: number;
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

interface RawCoverage {
  id: number;
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
    insertCoverage: db.prepare(
      `INSERT INTO coverage (pubsub_topic, kind, start_ms, end_ms, verified, attested, peers, messages, recorded_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    extendCoverage: db.prepare('UPDATE coverage SET end_ms = ? WHERE id = ? AND end_ms < ?'),
    coverageOfTopic: db.prepare('SELECT * FROM coverage WHERE pubsub_topic = ? ORDER BY start_ms'),
    deleteUnverifiedInside: db.prepare(
      `DELETE FROM coverage WHERE pubsub_topic = ? AND kind = 'filled' AND verified = 0 AND start_ms >= ? AND end_ms <= ?`,
    ),
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

  // ---- coverage ---------------------------------------------------------------

  /** Opens an online interval [startMs, startMs]; the heartbeat extends it. */
  openOnline(pubsubTopic: string, startMs: number): number {
    const info = this.s.insertCoverage.run(pubsubTopic, 'online', startMs, startMs, 1, 1, '[]', 0, startMs);
    return Number(info.lastInsertRowid);
  }

  /** Moves an interval's end forward (never back). */
  extend(id: number, endMs: number): void {
    this.s.extendCoverage.run(endMs, id, endMs);
  }

  coverage(pubsubTopic: string): CoverageRow[] {
    return (this.s.coverageOfTopic.all(pubsubTopic) as RawCoverage[]).map((r) => ({
      id: r.id,
      pubsubTopic: r.pubsub_topic,
      kind: r.kind,
      start: r.start_ms,
      end: r.end_ms,
      verified: r.verified === 1,
      attested: r.attested === 1,
      peers: JSON.parse(r.peers) as string[],
      messages: r.messages,
      recordedMs: r.recorded_ms,
    }));
  }

  /**
   * Records what a fill of `window` holds now, part by part, in one
   * transaction. The unverified records inside the window are
   * replaced: `parts` carries on what of them still holds.
   */
  completeWindow(pubsubTopic: string, window: Interval, parts: readonly FilledPart[], messages: number): void {
    const now = Date.now();
    this.archive.transaction(() => {
      this.s.deleteUnverifiedInside.run(pubsubTopic, window.start, window.end);
      parts.forEach((p, i) => {
        const n = i === 0 ? messages : 0;
        this.s.insertCoverage.run(pubsubTopic, 'filled', p.start, p.end, p.verified ? 1 : 0, p.attested ? 1 : 0, JSON.stringify(p.peers), n, now);
      });
    });
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
