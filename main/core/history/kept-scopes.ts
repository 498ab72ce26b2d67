/**
 * The scopes this Keeper keeps now, with their records in the archive: the one
 * list uptime, gap filling, coverage answers, figures and retention go by. It
 * follows the plan (communities, relayed topics, their own quotas and
 * retention), and says where each scope's own history starts.
 */
import type { Archive } from '../archive/archive.ts';
import type { HistoryStore } from './history-store.ts';
import { contains, keptScopes, scopeOf } from './scope.ts';
import type { KeptPlan, KeptScope, Scope } from './scope.ts';
import { nsToMs } from '../util/time.ts';

/** A kept scope with its record: the id its coverage is under, and since when it is kept. */
export interface KeptScopeRecord extends KeptScope {
  id: number;
  keptSinceMs: number;
}

/** Share of a community's quota at which its oldest held message bounds its window (as the archive's own quota does). */
export const COMMUNITY_QUOTA_FULL = 0.9;

/** What a community holds of the archive: its messages, their bytes, its oldest (ns). */
export interface ScopeHoldings {
  messages: number;
  bytes: number;
  oldest: bigint | null;
}

/** A community is at its quota when it holds nearly all its donated space. */
export function atQuota(k: Pick<KeptScope, 'quotaBytes'>, held: Pick<ScopeHoldings, 'bytes'>): boolean {
  return k.quotaBytes !== null && held.bytes >= COMMUNITY_QUOTA_FULL * k.quotaBytes;
}

export class KeptScopes {
  private readonly store: HistoryStore;
  private readonly archive: Archive;
  private readonly plan: () => KeptPlan;
  /** The archive's retention now: a community's own is never longer. */
  private readonly retentionMs: () => number;
  private kept: KeptScopeRecord[] = [];

  constructor(store: HistoryStore, archive: Archive, plan: () => KeptPlan, retentionMs: () => number) {
    this.store = store;
    this.archive = archive;
    this.plan = plan;
    this.retentionMs = retentionMs;
  }

  get list(): readonly KeptScopeRecord[] {
    return this.kept;
  }

  /**
   * Follows the plan: records the scopes it keeps (a new one kept from now,
   * its past a gap unless a whole topic kept before vouches for it), settles
   * coverage recorded before scopes were, and forgets the communities no
   * longer kept — their scope and coverage go.
   */
  sync(now = Date.now()): void {
    const wanted = keptScopes(this.plan());
    this.store.settleLegacy(wanted, now);
    this.kept = wanted.map((k) => {
      const r = this.store.ensureScope(k, k.name, now);
      return { ...k, id: r.id, keptSinceMs: r.keptSinceMs };
    });
    const keptIds = new Set(this.kept.map((k) => k.id));
    for (const r of this.store.scopes()) if (r.name !== null && !keptIds.has(r.id)) this.store.removeScope(r.id);
  }

  /** The kept scopes that hold all of `asked` (the same pubsub topic, and its content topics or all of them). */
  containing(asked: Scope): KeptScopeRecord[] {
    const s = scopeOf(asked.pubsubTopic, asked.contentTopics);
    return this.kept.filter((k) => contains(k, s));
  }

  /**
   * A removed community's messages were deleted: coverage of scopes no longer
   * kept that contain it — a whole topic kept before — vouched for them and
   * no longer describes the archive. Each kept scope it vouched for gets a
   * copy of it first (their messages are still held), then it goes; a
   * community kept again later starts with its past missing.
   */
  messagesDeleted(deleted: Scope): void {
    const target = scopeOf(deleted.pubsubTopic, deleted.contentTopics);
    const keptIds = new Set(this.kept.map((k) => k.id));
    for (const r of this.store.scopes()) {
      if (keptIds.has(r.id) || !contains(r, target)) continue;
      this.store.handDown(r.id, this.kept.filter((k) => contains(r, k)).map((k) => k.id));
    }
  }

  /** What a kept scope holds of the archive now. */
  holdings(k: Scope): ScopeHoldings {
    if (!this.archive.isOpen || k.contentTopics.length === 0) return { messages: 0, bytes: 0, oldest: null };
    return this.archive.contentStats(k.pubsubTopic, k.contentTopics);
  }

  /** A community's retention: its own, never longer than the archive's. */
  retentionOf(k: Pick<KeptScope, 'retentionMs'>): number {
    return Math.min(k.retentionMs ?? Infinity, this.retentionMs());
  }

  /**
   * When a kept scope's own history starts, if later than the archive's window:
   * its own retention, and once it is (nearly) at its quota, its oldest message.
   */
  horizonOf(scopeId: number, now = Date.now()): number | null {
    const k = this.kept.find((x) => x.id === scopeId);
    if (k === undefined) return null;
    let horizon: number | null = k.retentionMs === null ? null : now - this.retentionOf(k);
    if (k.quotaBytes !== null) {
      const held = this.holdings(k);
      if (atQuota(k, held) && held.oldest !== null) horizon = Math.max(horizon ?? -Infinity, nsToMs(held.oldest));
    }
    return horizon;
  }
}
