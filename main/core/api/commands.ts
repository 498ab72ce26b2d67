/**
 * The dashboard's commands, as the HTTP API and the desktop IPC both serve
 * them. Each answers with a result, never a throw: bad input names its field
 * (`invalid`), what names nothing known is `not-found`, and a stopping node is
 * `unavailable`. What a command changes lives in the part it concerns: the
 * runtime settings, and the parts that follow them.
 */
import type { ApiResult, Community, KeeperCommands, KeeperStatus, LogEntry, Role, SetupInput, StorageInput } from '../../contract/contract.ts';
import type { HistoryService } from '../history/history-service.ts';
import type { RuntimeSettings } from '../settings/runtime-settings.ts';
import { CommandError, ConfigError, errorMessage } from '../util/errors.ts';
import type { EventLog } from './event-log.ts';
import type { StatusPublisher } from './status-publisher.ts';

export interface CommandParts {
  settings: RuntimeSettings;
  history: HistoryService;
  status: StatusPublisher;
  log: EventLog;
  selfId: string;
  stopping: () => boolean;
}

export class KeeperCommandSet implements KeeperCommands {
  private readonly p: CommandParts;

  constructor(parts: CommandParts) {
    this.p = parts;
  }

  private async run<T>(fn: () => T | Promise<T>): Promise<ApiResult<T>> {
    if (this.p.stopping()) return { ok: false, error: { code: 'unavailable', message: 'the node is stopping' } };
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      if (err instanceof ConfigError) return { ok: false, error: { code: 'invalid', field: err.field, message: err.message } };
      if (err instanceof CommandError) {
        return { ok: false, error: { code: err.code, message: err.message, ...(err.field === undefined ? {} : { field: err.field }) } };
      }
      return { ok: false, error: { code: 'internal', message: errorMessage(err) } };
    }
  }

  /** Runs a settings change and says it in the log. */
  private change(what: string, fn: () => unknown): Promise<ApiResult<null>> {
    return this.run(() => {
      fn();
      this.p.log.emit({ event: 'settings', change: what });
      return null;
    });
  }

  getStatus = (): Promise<ApiResult<KeeperStatus>> => this.run(() => this.p.status.latest());
  getLog = (): Promise<ApiResult<LogEntry[]>> => this.run(() => this.p.log.recent());
  setup = (input: SetupInput): Promise<ApiResult<null>> => this.change('setup', () => this.p.settings.setup(input));
  setRole = (role: Role): Promise<ApiResult<null>> => this.change('role', () => this.p.settings.setRole(role));
  addCommunity = (c: Community): Promise<ApiResult<null>> => this.change('community added', () => this.p.settings.addCommunity(c));
  removeCommunity = (name: string): Promise<ApiResult<null>> => this.change('community removed', () => this.p.settings.removeCommunity(name));
  addStorePeer = (multiaddr: string): Promise<ApiResult<null>> =>
    this.change('store peer added', () => this.p.settings.addStorePeer(multiaddr, this.p.selfId));
  removeStorePeer = (peerId: string): Promise<ApiResult<null>> =>
    this.change('store peer removed', () => this.p.settings.removeStorePeer(peerId, this.p.history.peers.get(String(peerId)) !== undefined));
  setStorage = (input: StorageInput): Promise<ApiResult<null>> => this.change('storage', () => this.p.settings.setStorage(input));

  /** Runs a gap-filling pass now; resolves when it is done. */
  fillNow = (): Promise<ApiResult<null>> =>
    this.run(async () => {
      await this.p.history.fillNow();
      return null;
    });
}
