/**
 * The dashboard's shared state: one class fed by the API's pushed snapshots.
 * Components read from it and call the API for commands; nothing copies it.
 */
import type { ApiResult, KeeperApi, KeeperStatus, LogEntry, TopicHistory } from '../../../main/contract/contract.ts';

export type Connection = 'connecting' | 'live' | 'lost';
export type ShownState = 'starting' | 'online' | 'offline' | 'filling' | 'stopping' | 'unreachable';

const LOG_LIMIT = 500;

export class KeeperState {
  status = $state<KeeperStatus | null>(null);
  log = $state<LogEntry[]>([]);
  connection = $state<Connection>('connecting');
  /** The last error a command or the connection gave, for the banner. */
  error = $state<string | null>(null);
  /** Local clock, ticking once a second, for "ago" and session uptime. */
  now = $state(Date.now());

  readonly api: KeeperApi;
  private readonly unsubscribe: (() => void)[] = [];
  private lastUpdate = 0;

  constructor(api: KeeperApi) {
    this.api = api;
  }

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.api.onStatus((s) => {
        this.status = s;
        this.lastUpdate = Date.now();
        this.connection = 'live';
      }),
      this.api.onLog((e) => {
        this.log = [...this.log.slice(-(LOG_LIMIT - 1)), e];
      }),
    );
    const timer = setInterval(() => {
      this.now = Date.now();
      // Pushes come every 2 s; silence for 8 s means the node went away.
      if (this.connection === 'live' && this.now - this.lastUpdate > 8000) this.connection = 'lost';
    }, 1000);
    this.unsubscribe.push(() => clearInterval(timer));
    const [status, log] = await Promise.all([this.api.getStatus(), this.api.getLog()]);
    if (status.ok) {
      this.status = status.value;
      this.lastUpdate = Date.now();
      this.connection = 'live';
    } else {
      this.connection = 'lost';
      this.error = status.error.message;
    }
    if (log.ok) this.log = log.value.slice(-LOG_LIMIT);
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Runs a command; on failure keeps its message for the banner and returns it. */
  async run<T>(command: () => Promise<ApiResult<T>>): Promise<ApiResult<T>> {
    const r = await command();
    this.error = r.ok ? null : r.error.message;
    if (r.ok) {
      const s = await this.api.getStatus();
      if (s.ok) this.status = s.value;
    }
    return r;
  }

  get shownState(): ShownState {
    const s = this.status;
    if (this.connection === 'lost') return 'unreachable';
    if (s === null) return 'starting';
    if (s.state === 'stopping' || s.state === 'starting') return s.state;
    if (s.history.fill.running) return 'filling';
    return s.state;
  }

  /** Completeness over every relayed topic, as the node reports it: held and verified, what it can attest. */
  get completeness(): number {
    return this.status?.history.verifiedShare ?? 0;
  }

  /** The community names that keep each pubsub topic, for labelling timelines. */
  labelOf(h: TopicHistory): string {
    const names = (this.status?.settings.communities ?? []).filter((c) => c.pubsubTopic === h.pubsubTopic).map((c) => c.name);
    return names.length > 0 ? names.join(', ') : h.pubsubTopic;
  }
}
