/**
 * The Keeper's events: every part reports through `emit`; the last entries are
 * kept for the dashboard's log page, and listeners (stdout, the log file, the
 * live feed) get each one as it happens.
 */
import type { KeeperEvent, LogEntry } from '../../contract/contract.ts';

const LOG_SIZE = 500;

export class EventLog {
  private readonly entries: LogEntry[] = [];
  private readonly eventListeners = new Set<(e: KeeperEvent) => void>();
  private readonly entryListeners = new Set<(entry: LogEntry) => void>();

  /** Reports an event; bound, so parts can be handed `log.emit` itself. */
  readonly emit = (e: KeeperEvent): void => {
    const level = e.event === 'error' ? 'error' : e.event === 'warning' ? 'warning' : 'info';
    // The kept log is shown and served: the dashboard link's token stays out of it.
    const kept = e.event === 'ready' ? { ...e, dashboard: e.dashboard.replace(/#token=.*/, '#token=…') } : e;
    const entry: LogEntry = { atMs: Date.now(), level, event: kept };
    this.entries.push(entry);
    if (this.entries.length > LOG_SIZE) this.entries.splice(0, this.entries.length - LOG_SIZE);
    for (const l of this.eventListeners) l(e);
    for (const l of this.entryListeners) l(entry);
  };

  /** The latest entries, oldest first. */
  recent(): LogEntry[] {
    return [...this.entries];
  }

  /** Each event as emitted, the dashboard link whole (for the one who started the node); returns the unsubscribe. */
  onEvent(listener: (e: KeeperEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Each new log entry (token removed); returns the unsubscribe. */
  onEntry(listener: (entry: LogEntry) => void): () => void {
    this.entryListeners.add(listener);
    return () => this.entryListeners.delete(listener);
  }
}
