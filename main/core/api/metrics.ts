/**
 * Prometheus metrics, rendered from the same status snapshot the UI gets, so
 * the two can never disagree. One registry per Keeper.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { KeeperStatus } from '../../contract/contract.ts';

export class KeeperMetrics {
  readonly registry = new Registry();
  private readonly stored = new Counter({ name: 'keeper_messages_stored_total', help: 'Messages written to the archive', registers: [this.registry] });
  private readonly received = new Counter({ name: 'keeper_relay_messages_received_total', help: 'Messages relay delivered for validation', registers: [this.registry] });
  private readonly unwritable = new Counter({
    name: 'keeper_messages_unwritable_total',
    help: 'Valid messages that could not be written (disk full, I/O error)',
    registers: [this.registry],
  });
  private readonly duplicates = new Counter({ name: 'keeper_messages_duplicate_total', help: 'Messages already in the archive', registers: [this.registry] });
  private readonly rejected = new Counter({
    name: 'keeper_messages_rejected_total',
    help: 'Messages refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly storeRequests = new Counter({
    name: 'keeper_store_requests_total',
    help: 'Store v3 requests answered, by status code',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly storeMessages = new Counter({
    name: 'keeper_store_messages_sent_total',
    help: 'Messages sent in Store v3 answers, with their bodies (data=true) or as hashes only',
    labelNames: ['data'],
    registers: [this.registry],
  });
  private readonly archiveMessages = new Gauge({
    name: 'keeper_archive_messages',
    help: 'Messages in the archive, by pubsub topic',
    labelNames: ['pubsub_topic'],
    registers: [this.registry],
  });
  private readonly archiveBytes = new Gauge({ name: 'keeper_archive_bytes', help: 'Disk pages used by the archive', registers: [this.registry] });
  private readonly quotaBytes = new Gauge({ name: 'keeper_archive_quota_bytes', help: 'Disk the archive may use', registers: [this.registry] });
  private readonly peers = new Gauge({
    name: 'keeper_peers',
    help: 'Connected peers, by role',
    labelNames: ['role'],
    registers: [this.registry],
  });

  private readonly covered = new Gauge({
    name: 'keeper_history_covered_ratio',
    help: 'Share of the retention window held (online or filled), by pubsub topic',
    labelNames: ['pubsub_topic'],
    registers: [this.registry],
  });
  private readonly verified = new Gauge({
    name: 'keeper_history_verified_ratio',
    help: 'Share of the retention window held and verified (online, or filled by the quorum of attesting peers): what this node attests, by pubsub topic',
    labelNames: ['pubsub_topic'],
    registers: [this.registry],
  });
  private readonly unattested = new Gauge({
    name: 'keeper_history_unattested_ratio',
    help: 'Share of the retention window held but not verified (unattested peers, or fewer attesting peers than the quorum), by pubsub topic',
    labelNames: ['pubsub_topic'],
    registers: [this.registry],
  });
  private readonly gaps = new Gauge({
    name: 'keeper_history_open_gaps',
    help: 'Stretches of the retention window not held, by pubsub topic',
    labelNames: ['pubsub_topic'],
    registers: [this.registry],
  });
  private readonly communityRatio = new Gauge({
    name: 'keeper_community_history_ratio',
    help: 'Share of a kept community\'s retention window held (covered), held and verified (verified), held but not verified (unattested), by community',
    labelNames: ['community', 'pubsub_topic', 'share'],
    registers: [this.registry],
  });
  private readonly communityGaps = new Gauge({
    name: 'keeper_community_open_gaps',
    help: 'Stretches of a kept community\'s retention window not held, by community',
    labelNames: ['community', 'pubsub_topic'],
    registers: [this.registry],
  });
  private readonly communityMessages = new Gauge({
    name: 'keeper_community_messages',
    help: 'Messages of a kept community in the archive',
    labelNames: ['community', 'pubsub_topic'],
    registers: [this.registry],
  });
  private readonly communityBytes = new Gauge({
    name: 'keeper_community_bytes',
    help: 'Bytes of a kept community\'s messages in the archive (what its donated space counts)',
    labelNames: ['community', 'pubsub_topic'],
    registers: [this.registry],
  });
  private readonly communityQuota = new Gauge({
    name: 'keeper_community_quota_bytes',
    help: 'Space donated to a kept community (absent: the archive\'s quota only)',
    labelNames: ['community', 'pubsub_topic'],
    registers: [this.registry],
  });
  private readonly communityFill = new Gauge({
    name: 'keeper_community_fill_windows',
    help: 'Windows of a kept community in the running gap-filling pass, done and total',
    labelNames: ['community', 'pubsub_topic', 'state'],
    registers: [this.registry],
  });
  private readonly fillRunning = new Gauge({ name: 'keeper_fill_running', help: '1 while a gap-filling pass runs', registers: [this.registry] });
  private readonly fillWindows = new Gauge({
    name: 'keeper_fill_windows',
    help: 'Windows of the running pass, done and total',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly recovered = new Counter({
    name: 'keeper_consistency_recovered_total',
    help: 'Messages the consistency check found missing and stored: fetched by hash, or pushed in the syncs it began',
    registers: [this.registry],
  });
  private readonly compared = new Counter({
    name: 'keeper_consistency_peers_compared_total',
    help: 'Peers the consistency check compared with, by method: Waku Sync (peers that speak reconciliation) or hash listings',
    labelNames: ['method'],
    registers: [this.registry],
  });
  private readonly syncEnabled = new Gauge({ name: 'keeper_sync_enabled', help: '1 when Waku Sync runs (--store-sync)', registers: [this.registry] });
  private readonly syncSessions = new Counter({
    name: 'keeper_sync_sessions_total',
    help: 'Waku Sync sessions, by role: initiator (begun here), responder (answered)',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private readonly syncOutcomes = new Counter({
    name: 'keeper_sync_session_outcomes_total',
    help: 'Waku Sync sessions of either role, by outcome: complete, truncated, refused, cut-off, failed',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly syncMessages = new Counter({
    name: 'keeper_sync_messages_total',
    help: 'Messages over Waku Sync transfer: pushed to peers, found but not sent (unsent), received valid, stored new, expected and never delivered (undelivered)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly syncCutOff = new Counter({
    name: 'keeper_sync_cut_off_total',
    help: 'Waku Sync sessions and transfer streams cut off for breaking the protocol or a bound, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly syncRefused = new Counter({
    name: 'keeper_sync_messages_refused_total',
    help: 'Messages peers pushed over Waku Sync transfer that were refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly syncRateLimited = new Counter({
    name: 'keeper_sync_rate_limited_total',
    help: 'Waku Sync sessions refused to peers: rate limit, too many at once, stopping',
    registers: [this.registry],
  });
  private readonly storePeers = new Gauge({
    name: 'keeper_store_peers',
    help: 'Known store peers, by whether they are connected',
    labelNames: ['connected'],
    registers: [this.registry],
  });

  private readonly attesting = new Gauge({
    name: 'keeper_store_peers_attesting',
    help: 'Store peers that attest their coverage, by whether their attestations count now (standing)',
    labelNames: ['trusted'],
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: 'keeper_coverage_answers_refused_total',
    help: 'Coverage answers from store peers refused: unsigned, badly signed, oversized or for another question',
    registers: [this.registry],
  });

  private readonly lag = new Gauge({
    name: 'keeper_event_loop_lag_seconds',
    help: 'Event-loop lag over the last 5-second window, by quantile',
    labelNames: ['quantile'],
    registers: [this.registry],
  });
  private readonly announceKeepers = new Gauge({
    name: 'keeper_community_keepers',
    help: "Keepers of a community known from their announcements (this one included), and those that lost standing",
    labelNames: ['community', 'state'],
    registers: [this.registry],
  });
  private readonly announceThin = new Gauge({
    name: 'keeper_community_thin_ratio',
    help: 'Share of the last 30 days held by fewer than two of the community\'s Keepers, by their announcements',
    labelNames: ['community'],
    registers: [this.registry],
  });
  private readonly announceRefused = new Counter({
    name: 'keeper_announcements_refused_total',
    help: 'Announcements refused, by community and reason',
    labelNames: ['community', 'reason'],
    registers: [this.registry],
  });
  private readonly announceAccepted = new Counter({
    name: 'keeper_announcements_accepted_total',
    help: 'Announcements from other Keepers believed, by community',
    labelNames: ['community'],
    registers: [this.registry],
  });
  private readonly announceBytes = new Gauge({
    name: 'keeper_announcement_bytes',
    help: "Size of this Keeper's last announcement (the signed payload), by community",
    labelNames: ['community'],
    registers: [this.registry],
  });
  private readonly rss = new Gauge({ name: 'keeper_process_resident_memory_bytes', help: 'Resident memory of the node process', registers: [this.registry] });

  async render(status: KeeperStatus): Promise<string> {
    this.lag.set({ quantile: '0.5' }, status.process.eventLoopLag.p50Ms / 1000);
    this.lag.set({ quantile: '0.99' }, status.process.eventLoopLag.p99Ms / 1000);
    this.rss.set(status.process.rssBytes);
    const setCounter = (c: Counter, value: number, labels?: Record<string, string>): void => {
      if (labels) c.remove(labels);
      else c.reset();
      if (labels) c.inc(labels, value);
      else c.inc(value);
    };
    setCounter(this.stored, status.ingest.stored);
    setCounter(this.received, status.ingest.received);
    setCounter(this.duplicates, status.ingest.duplicates);
    setCounter(this.unwritable, status.ingest.unwritable);
    for (const [reason, n] of Object.entries(status.ingest.rejected)) setCounter(this.rejected, n ?? 0, { reason });
    for (const [code, n] of Object.entries(status.store.requests)) setCounter(this.storeRequests, n, { status: code });
    setCounter(this.storeMessages, status.store.messages.bodies, { data: 'true' });
    setCounter(this.storeMessages, status.store.messages.hashes, { data: 'false' });
    this.announceKeepers.reset();
    this.announceThin.reset();
    this.announceBytes.reset();
    for (const a of status.announce) {
      const community = a.key;
      this.announceKeepers.set({ community, state: 'all' }, a.keepers.length);
      this.announceKeepers.set({ community, state: 'lost-standing' }, a.keepers.filter((k) => k.standingLost).length);
      this.announceThin.set({ community }, a.thinShare);
      if (a.lastBytes !== null) this.announceBytes.set({ community }, a.lastBytes);
      setCounter(this.announceAccepted, a.accepted, { community });
      for (const [reason, n] of Object.entries(a.refused)) setCounter(this.announceRefused, n ?? 0, { community, reason });
    }
    this.archiveMessages.reset();
    for (const t of status.topics) this.archiveMessages.set({ pubsub_topic: t.pubsubTopic }, t.messages);
    this.archiveBytes.set(status.archive.bytes);
    this.quotaBytes.set(status.archive.quotaBytes);
    this.peers.set({ role: 'all' }, status.peers.length);
    this.peers.set({ role: 'relay' }, status.peers.filter((p) => p.relay).length);
    this.peers.set({ role: 'store' }, status.peers.filter((p) => p.store).length);
    const h = status.history;
    for (const t of h.topics) {
      this.covered.set({ pubsub_topic: t.pubsubTopic }, t.coveredShare);
      this.verified.set({ pubsub_topic: t.pubsubTopic }, t.verifiedShare);
      this.unattested.set({ pubsub_topic: t.pubsubTopic }, t.unattestedShare);
      this.gaps.set({ pubsub_topic: t.pubsubTopic }, t.gaps.length);
    }
    for (const g of [this.communityRatio, this.communityGaps, this.communityMessages, this.communityBytes, this.communityQuota, this.communityFill]) g.reset();
    for (const c of h.communities) {
      const labels = { community: c.name, pubsub_topic: c.pubsubTopic };
      this.communityRatio.set({ ...labels, share: 'covered' }, c.coveredShare);
      this.communityRatio.set({ ...labels, share: 'verified' }, c.verifiedShare);
      this.communityRatio.set({ ...labels, share: 'unattested' }, c.unattestedShare);
      this.communityGaps.set(labels, c.gaps.length);
      this.communityMessages.set(labels, c.storage.messages);
      this.communityBytes.set(labels, c.storage.bytes);
      if (c.storage.quotaBytes !== null) this.communityQuota.set(labels, c.storage.quotaBytes);
      this.communityFill.set({ ...labels, state: 'done' }, c.fill.windowsDone);
      this.communityFill.set({ ...labels, state: 'total' }, c.fill.windowsTotal);
    }
    this.fillRunning.set(h.fill.running ? 1 : 0);
    this.fillWindows.set({ state: 'done' }, h.fill.windowsDone);
    this.fillWindows.set({ state: 'total' }, h.fill.windowsTotal);
    setCounter(this.recovered, h.consistency.recovered);
    setCounter(this.compared, h.consistency.compared.sync, { method: 'sync' });
    setCounter(this.compared, h.consistency.compared.hashes, { method: 'hashes' });
    const sync = h.consistency.sync;
    this.syncEnabled.set(sync.enabled ? 1 : 0);
    const { initiated, answered, ...outcomes } = sync.sessions;
    setCounter(this.syncSessions, initiated, { role: 'initiator' });
    setCounter(this.syncSessions, answered, { role: 'responder' });
    for (const [outcome, n] of Object.entries(outcomes)) setCounter(this.syncOutcomes, n, { outcome });
    for (const [kind, n] of Object.entries(sync.messages)) setCounter(this.syncMessages, n, { kind });
    for (const [reason, n] of Object.entries(sync.cutOff)) setCounter(this.syncCutOff, n, { reason });
    for (const [reason, n] of Object.entries(sync.refused)) setCounter(this.syncRefused, n, { reason });
    setCounter(this.syncRateLimited, sync.rateLimited);
    this.storePeers.set({ connected: 'true' }, h.storePeers.filter((p) => p.connected).length);
    this.storePeers.set({ connected: 'false' }, h.storePeers.filter((p) => !p.connected).length);
    this.attesting.set({ trusted: 'true' }, h.storePeers.filter((p) => p.attests === true && p.trusted).length);
    this.attesting.set({ trusted: 'false' }, h.storePeers.filter((p) => p.attests === true && !p.trusted).length);
    setCounter(this.refused, h.storePeers.reduce((n, p) => n + p.refused, 0));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
