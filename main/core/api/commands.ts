/**
 * The dashboard's commands, as the HTTP API and the desktop IPC both serve
 * them. Each answers with a result, never a throw: bad input names its field
 * (`invalid`), what names nothing known is `not-found`, and a stopping node is
 * `unavailable`. What a command changes lives in the part it concerns: the
 * runtime settings, and the parts that follow them.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type {
  ApiResult,
  Community,
  CommunityRefInput,
  CommunityStorageInput,
  KeeperCommands,
  KeeperStatus,
  LogEntry,
  RemoveCommunityInput,
  RemovedCommunities,
  Role,
  SetupInput,
  StorageInput,
} from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import { deletionsFor } from '../communities/removal.ts';
import { statusCommunityEntries } from '../communities/status-community.ts';
import type { HistoryService } from '../history/history-service.ts';
import type { RuntimeSettings } from '../settings/runtime-settings.ts';
import { CommandError, ConfigError, errorMessage } from '../util/errors.ts';
import type { EventLog } from './event-log.ts';
import type { StatusPublisher } from './status-publisher.ts';

/** Messages deleted with a removed community per transaction: short ones, so relay and store serving go on between them. */
const DELETE_BATCH = 2000;

export interface CommandParts {
  settings: RuntimeSettings;
  /** For deleting a removed community's messages, when asked. */
  archive: Archive;
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
  /** Derives a Status community's entries from its link, key or id; changes nothing. */
  previewCommunity = (ref: string): Promise<ApiResult<Community[]>> => this.run(() => statusCommunityEntries({ ref }));
  addCommunity = (c: Community | CommunityRefInput): Promise<ApiResult<null>> => this.change('community added', () => this.p.settings.addCommunity(c));
  setCommunityStorage = (input: CommunityStorageInput): Promise<ApiResult<null>> =>
    this.change('community storage', () => this.p.settings.setCommunityStorage(input));

  /** Stops keeping a community (all entries of a Status one) and, when asked, deletes its messages in short batches. */
  removeCommunity = (input: string | RemoveCommunityInput): Promise<ApiResult<RemovedCommunities>> =>
    this.run(async () => {
      const { name, deleteMessages } = removeInput(input);
      const removed = this.p.settings.removeCommunity(name);
      this.p.log.emit({ event: 'settings', change: 'community removed' });
      let messages = 0;
      let bytes = 0;
      if (deleteMessages) {
        const s = this.p.settings;
        for (const d of deletionsFor(removed, s.communities, s.config.contentTopics)) {
          for (;;) {
            if (!this.p.archive.isOpen) break;
            const done = this.p.archive.deleteContent(d.pubsubTopic, d.contentTopics, d.keep, DELETE_BATCH);
            messages += done.messages;
            bytes += done.bytes;
            if (done.messages < DELETE_BATCH) break;
            await nextTurn();
          }
          // What vouched for these messages (a whole topic kept before) no longer describes the archive.
          this.p.history.messagesDeleted({ pubsubTopic: d.pubsubTopic, contentTopics: d.contentTopics ?? [] });
        }
        if (messages > 0) this.p.log.emit({ event: 'retention', policy: 'community-removed', messages, bytes });
      }
      return { removed: removed.map((c) => c.name), deletedMessages: messages };
    });
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

function removeInput(input: unknown): { name: string; deleteMessages: boolean } {
  if (typeof input === 'string') return { name: input, deleteMessages: false };
  if (typeof input !== 'object' || input === null) throw new ConfigError('name', 'give the community’s name, or { name, deleteMessages }');
  const { name, deleteMessages } = input as Record<string, unknown>;
  if (typeof name !== 'string') throw new ConfigError('name', 'must be a string');
  if (deleteMessages !== undefined && typeof deleteMessages !== 'boolean') throw new ConfigError('deleteMessages', 'must be true or false');
  return { name, deleteMessages: deleteMessages === true };
}
