/**
 * When to tell someone: the node has been offline, or a gap in the history has
 * stayed open, for longer than a threshold. Pure: the status and the clock in,
 * the alerts to show out; each condition alerts once until it clears.
 */
import type { KeeperStatus } from '../contract/contract.ts';

export interface Alert {
  key: string;
  title: string;
  body: string;
}

export class AlertWatcher {
  private readonly thresholdMs: number;
  private offlineSince: number | null = null;
  private readonly gapSeen = new Map<string, number>();
  private readonly raised = new Set<string>();

  constructor(thresholdMs: number) {
    this.thresholdMs = thresholdMs;
  }

  update(status: KeeperStatus, now: number): Alert[] {
    const alerts: Alert[] = [];
    if (status.state === 'offline') {
      this.offlineSince ??= now;
      if (now - this.offlineSince >= this.thresholdMs && !this.raised.has('offline')) {
        this.raised.add('offline');
        alerts.push({
          key: 'offline',
          title: 'Waku Keeper is offline',
          body: `No relay peer for ${Math.round((now - this.offlineSince) / 60_000)} minutes: new messages are not being kept.`,
        });
      }
    } else {
      this.offlineSince = null;
      this.raised.delete('offline');
    }
    const open = new Set<string>();
    for (const t of status.history.topics) {
      for (const g of t.gaps) {
        const key = `gap|${t.pubsubTopic}|${g.startMs}`;
        open.add(key);
        const seen = this.gapSeen.get(key) ?? now;
        this.gapSeen.set(key, seen);
        if (now - seen >= this.thresholdMs && !this.raised.has(key)) {
          this.raised.add(key);
          alerts.push({
            key,
            title: 'A gap in the history stays open',
            body: `${t.pubsubTopic}: ${new Date(g.startMs).toLocaleString()} – ${new Date(g.endMs).toLocaleString()} could not be filled (${g.reason}).`,
          });
        }
      }
    }
    for (const key of [...this.gapSeen.keys()]) {
      if (!open.has(key)) {
        this.gapSeen.delete(key);
        this.raised.delete(key);
      }
    }
    return alerts;
  }
}
