/**
 * The settings that change while the node runs — role, quota, retention,
 * communities (and with them the relayed topics), static peers — in one
 * object. It checks each change, persists it to settings.json, and tells the
 * parts that care through one `change` event. The parsed config stays
 * read-only: a command-line flag wins over a saved setting for its run.
 */
import { EventEmitter } from 'node:events';
import type { Community, CommunityRefInput, CommunityStorageInput, Role, SetupInput, StorageInput } from '../../contract/contract.ts';
import { isCommunityRef, statusCommunityEntries } from '../communities/status-community.ts';
import { TopicPlan } from '../communities/topic-plan.ts';
import type { TopicChange } from '../communities/topic-plan.ts';
import { CommandError, ConfigError, errorMessage } from '../util/errors.ts';
import { parsePeerAddress } from '../util/peer-address.ts';
import type { PeerAddress } from '../util/peer-address.ts';
import { messageRulesOf } from './config.ts';
import type { KeeperConfig } from './config.ts';
import type { MessageRules } from '../message/validate.ts';
import { loadSettings, saveSettings } from './settings-file.ts';
import type { Settings } from './settings-file.ts';

export type SettingsChange =
  | ({ kind: 'topics' } & TopicChange)
  | { kind: 'storage' }
  | { kind: 'community-storage'; communities: Community[] }
  | { kind: 'role' }
  | { kind: 'store-peer-added'; peer: PeerAddress }
  | { kind: 'store-peer-removed'; peerId: string };

export interface SettingsEvents {
  change: [SettingsChange];
}

const MIN_QUOTA_BYTES = 1024 * 1024;
const MIN_RETENTION_MS = 60_000;

export class RuntimeSettings extends EventEmitter<SettingsEvents> {
  readonly config: Readonly<KeeperConfig>;
  /** The relayed pubsub topics and kept content topics. */
  readonly plan: TopicPlan;
  /** The network's message rules: size cap, protected shards. */
  readonly rules: MessageRules;
  private saved: Settings;
  /** Store peers of this run: the flags' and the dashboard's, as given. */
  private storePeerAddrs: string[];
  /** Storage set from the dashboard during this run: it wins even over a flag. */
  private storageNow: { quotaBytes?: number; retentionMs?: number } = {};

  private constructor(config: Readonly<KeeperConfig>, saved: Settings) {
    super();
    this.config = config;
    this.saved = saved;
    this.plan = new TopicPlan(config.clusterId, config.pubsubTopics, config.contentTopics, saved.communities);
    this.rules = messageRulesOf(config);
    this.storePeerAddrs = [...new Set([...config.storePeers, ...saved.storePeers])];
  }

  /**
   * Reads settings.json from the config's data dir (a bad file is a ConfigError
   * naming it), and keeps the --community communities not kept yet, saving
   * them as the dashboard would: kept from this start on.
   */
  static load(config: Readonly<KeeperConfig>): RuntimeSettings {
    const settings = new RuntimeSettings(config, loadSettings(config.dataDir));
    settings.keepFlagCommunities();
    return settings;
  }

  private keepFlagCommunities(): void {
    const kept = this.plan.communities;
    const fresh = this.config.communityRefs
      .map((ref) => statusCommunityEntries(ref, '--community'))
      .filter((entries, i, all) => {
        const id = entries[0]?.status?.communityId;
        return !kept.some((c) => c.status?.communityId === id) && all.findIndex((e) => e[0]?.status?.communityId === id) === i;
      });
    if (fresh.length === 0) return;
    try {
      this.plan.addAll(fresh.flat());
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError('--community', err.message);
      throw err;
    }
    this.persist(() => undefined);
  }

  get role(): Role | null {
    return this.saved.role;
  }

  get quotaBytes(): number {
    if (this.storageNow.quotaBytes !== undefined) return this.storageNow.quotaBytes;
    return this.config.explicit.includes('quotaBytes') ? this.config.quotaBytes : (this.saved.quotaBytes ?? this.config.quotaBytes);
  }

  get retentionMs(): number {
    if (this.storageNow.retentionMs !== undefined) return this.storageNow.retentionMs;
    return this.config.explicit.includes('retentionMs') ? this.config.retentionMs : (this.saved.retentionMs ?? this.config.retentionMs);
  }

  get communities(): Community[] {
    return this.plan.communities;
  }

  /** The store peers' addresses, as configured (flags and dashboard). */
  get storePeers(): readonly string[] {
    return this.storePeerAddrs;
  }

  /** Every peer kept dialled: the --peers and the store peers. */
  get staticPeers(): PeerAddress[] {
    return [...this.config.peers, ...this.storePeerAddrs].map(parsePeerAddress);
  }

  isStaticPeer(peerId: string): boolean {
    return this.staticPeers.some((p) => p.peerId.toString() === peerId);
  }

  // ---- changes: each checks its input first and changes nothing on a bad one ----

  setup(input: SetupInput): void {
    checkRole(input?.role);
    checkStorage(input.quotaBytes, this.retentionMs);
    const topics = input.community === null || input.community === undefined ? null : this.plan.addAll(entriesOf(input.community));
    this.persist((s) => {
      s.role = input.role;
      s.quotaBytes = input.quotaBytes;
    });
    this.storageNow.quotaBytes = input.quotaBytes;
    if (topics !== null) this.emit('change', { kind: 'topics', ...topics });
    this.emit('change', { kind: 'role' });
    this.emit('change', { kind: 'storage' });
  }

  setRole(role: Role): void {
    checkRole(role);
    this.persist((s) => (s.role = role));
    this.emit('change', { kind: 'role' });
  }

  /**
   * Keeps a community: given by its topics, or as a Status link, key or id
   * (its entries derived, one per pubsub topic). Returns the entries added.
   */
  addCommunity(input: Community | CommunityRefInput): Community[] {
    const before = new Set(this.plan.communities.map((c) => c.name));
    const topics = this.plan.addAll(entriesOf(input));
    this.persist(() => undefined);
    this.emit('change', { kind: 'topics', ...topics });
    return this.plan.communities.filter((c) => !before.has(c.name));
  }

  /** Stops keeping a community (every entry of a Status community); returns the entries removed. */
  removeCommunity(name: string): Community[] {
    if (typeof name !== 'string') throw new ConfigError('name', 'must be a string');
    const { removedCommunities, ...topics } = this.plan.remove(name);
    this.persist(() => undefined);
    this.emit('change', { kind: 'topics', ...topics });
    return removedCommunities;
  }

  /** Sets a community's own quota and retention (null: the archive's); every entry of a Status community gets them. */
  setCommunityStorage(input: CommunityStorageInput): Community[] {
    if (typeof input !== 'object' || input === null) throw new ConfigError('input', 'must be { name, quotaBytes, retentionMs }');
    if (typeof input.retentionMs === 'number' && input.retentionMs <= this.config.settleMs) {
      throw new ConfigError('retentionMs', 'is shorter than the settle time');
    }
    const before = this.plan.communities;
    const changed = this.plan.setStorage(input.name, input.quotaBytes, input.retentionMs);
    try {
      this.persist(() => undefined);
    } catch (err) {
      for (const c of before) this.plan.setStorage(c.name, c.quotaBytes ?? null, c.retentionMs ?? null);
      throw err;
    }
    this.emit('change', { kind: 'community-storage', communities: changed });
    return changed;
  }

  /**
   * Relays pubsub topics for this run only (nwaku's REST subscriptions): they
   * are relayed and archived like any other, and never saved to settings.json.
   */
  addRunTopics(topics: readonly string[]): TopicChange {
    const change = this.plan.addRunTopics(topics);
    if (change.added.length > 0) this.emit('change', { kind: 'topics', ...change });
    return change;
  }

  /** Stops relaying topics added for this run; configured and community topics stay. */
  removeRunTopics(topics: readonly string[]): TopicChange {
    const change = this.plan.removeRunTopics(topics);
    if (change.removed.length > 0) this.emit('change', { kind: 'topics', ...change });
    return change;
  }

  /** Adds a store peer by multiaddr; `selfId` is this node's own peer id, which is refused. */
  addStorePeer(address: string, selfId: string): PeerAddress {
    if (typeof address !== 'string') throw new ConfigError('multiaddr', 'must be a string');
    let peer: PeerAddress;
    try {
      peer = parsePeerAddress(address.trim());
    } catch (err) {
      throw new ConfigError('multiaddr', errorMessage(err));
    }
    if (peer.peerId.toString() === selfId) throw new ConfigError('multiaddr', 'that is this node itself');
    const text = peer.addr.toString();
    this.storePeerAddrs = [...new Set([...this.storePeerAddrs, text])];
    this.persist((s) => (s.storePeers = [...new Set([...s.storePeers, text])]));
    this.emit('change', { kind: 'store-peer-added', peer });
    return peer;
  }

  /** Removes a store peer by peer id; one that is not configured is a not-found CommandError. */
  removeStorePeer(peerId: string, known: boolean): void {
    const configured = typeof peerId === 'string' && this.storePeerAddrs.some((a) => a.endsWith(`/p2p/${peerId}`));
    if (typeof peerId !== 'string' || (!configured && !known)) throw new CommandError('not-found', `no store peer ${String(peerId)}`, 'peerId');
    this.storePeerAddrs = this.storePeerAddrs.filter((a) => !a.endsWith(`/p2p/${peerId}`));
    this.persist((s) => (s.storePeers = s.storePeers.filter((a) => !a.endsWith(`/p2p/${peerId}`))));
    this.emit('change', { kind: 'store-peer-removed', peerId });
  }

  setStorage(input: StorageInput): void {
    checkStorage(input?.quotaBytes, input?.retentionMs);
    if (input.retentionMs <= this.config.settleMs) throw new ConfigError('retentionMs', 'is shorter than the settle time');
    this.persist((s) => {
      s.quotaBytes = input.quotaBytes;
      s.retentionMs = input.retentionMs;
    });
    this.storageNow = { quotaBytes: input.quotaBytes, retentionMs: input.retentionMs };
    this.emit('change', { kind: 'storage' });
  }

  /** Writes the settings with `change` applied and the current communities; memory follows the file. */
  private persist(change: (s: Settings) => void): void {
    const next = structuredClone(this.saved);
    change(next);
    next.communities = this.plan.communities;
    saveSettings(this.config.dataDir, next);
    this.saved = next;
  }
}

/** The entries a community input stands for: itself, or a Status community's derived ones. */
function entriesOf(input: unknown): unknown[] {
  return isCommunityRef(input) ? statusCommunityEntries(input) : [input];
}

function checkRole(role: unknown): asserts role is Role {
  if (role !== 'owner' && role !== 'volunteer') throw new ConfigError('role', 'must be "owner" or "volunteer"');
}

function checkStorage(quotaBytes: unknown, retentionMs: unknown): void {
  if (typeof quotaBytes !== 'number' || !Number.isFinite(quotaBytes) || quotaBytes < MIN_QUOTA_BYTES) {
    throw new ConfigError('quotaBytes', 'must be at least 1 MiB');
  }
  if (typeof retentionMs !== 'number' || !Number.isFinite(retentionMs) || retentionMs < MIN_RETENTION_MS) {
    throw new ConfigError('retentionMs', 'must be at least a minute');
  }
}
