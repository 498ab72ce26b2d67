/**
 * What a Keeper says of itself in a community's announcement: its addresses
 * (the share card's, public ones when known), ENR, role, retention, the space
 * it has left for the community, and what it holds and was online for —
 * gathered from the parts keeper.ts wires, so the announce layer needs none.
 */
import type { Community } from '../contract/contract.ts';
import type { AnnounceServiceDeps } from './announce/service.ts';
import type { Archive } from './archive/archive.ts';
import type { HistoryService } from './history/history-service.ts';
import type { KeeperLibp2p } from './node/libp2p.ts';
import type { Presence } from './reach/presence.ts';
import type { RuntimeSettings } from './settings/runtime-settings.ts';
import type { Interval } from './util/intervals.ts';
import { USER_AGENT } from './util/version.ts';
import { multiaddr } from '@multiformats/multiaddr';

export interface SelfParts {
  settings: RuntimeSettings;
  archive: Archive;
  history: HistoryService;
  presence: Presence;
  node: KeeperLibp2p;
}

export function describeSelf(p: SelfParts, c: Community, span: Interval): ReturnType<AnnounceServiceDeps['describe']> {
  const { settings, archive } = p;
  // Against its own quota, what the community's own messages weigh; against the archive's, what the archive uses.
  const used = !archive.isOpen ? 0 : c.quotaBytes == null ? archive.stats().usedBytes : archive.contentStats(c.pubsubTopic, c.contentTopics).bytes;
  const quota = c.quotaBytes ?? settings.quotaBytes;
  const shared = p.presence.shareMultiaddrs();
  return {
    multiaddrs: shared.length > 0 ? shared.map((a) => multiaddr(a).decapsulateCode(421).bytes) : p.node.getMultiaddrs().map((a) => a.decapsulateCode(421).bytes),
    enr: p.presence.enr,
    role: settings.role ?? 'volunteer',
    retentionMs: c.retentionMs ?? settings.retentionMs,
    freeBytes: Math.max(0, quota - used),
    held: p.history.attestable(c.pubsubTopic, c.contentTopics, span),
    online: p.history.onlineStretches(c.pubsubTopic, c.contentTopics, span),
    software: USER_AGENT,
  };
}
