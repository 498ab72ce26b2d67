/**
 * Prometheus metrics, rendered from the same status snapshot the UI gets, so
 * the two can never disagree. One registry per Keeper.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { KeeperStatus } from './contract.ts';

export class KeeperMetrics {
  readonly registry = new Registry();
  private readonly stored = new Counter({ name: 'keeper_messages_stored_total', help: 'Messages written to the archive', registers: [this.registry] });
  private readonly received = new Counter({ name: 'keeper_relay_messages_received_total', help: 'Messages relay delivered for validation', registers: [this.registry] });
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

  async render(status: KeeperStatus): Promise<string> {
    const setCounter = (c: Counter, value: number, labels?: Record<string, string>): void => {
      if (labels) c.remove(labels);
      else c.reset();
      if (labels) c.inc(labels, value);
      else c.inc(value);
    };
    setCounter(this.stored, status.ingest.stored);
    setCounter(this.received, status.ingest.received);
    setCounter(this.duplicates, status.ingest.duplicates);
    for (const [reason, n] of Object.entries(status.ingest.rejected)) setCounter(this.rejected, n ?? 0, { reason });
    for (const [code, n] of Object.entries(status.store.requests)) setCounter(this.storeRequests, n, { status: code });
    this.archiveMessages.reset();
    for (const t of status.topics) this.archiveMessages.set({ pubsub_topic: t.pubsubTopic }, t.messages);
    this.archiveBytes.set(status.archive.bytes);
    this.quotaBytes.set(status.archive.quotaBytes);
    this.peers.set({ role: 'all' }, status.peers.length);
    this.peers.set({ role: 'relay' }, status.peers.filter((p) => p.relay).length);
    this.peers.set({ role: 'store' }, status.peers.filter((p) => p.store).length);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
