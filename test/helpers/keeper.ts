/** Real Keepers on loopback for integration tests, each in its own temporary data dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../main/core/settings/config.ts';
import type { KeeperConfig } from '../../main/core/settings/config.ts';
import type { KeeperEvent, KeeperStatus } from '../../main/contract/contract.ts';
import { Keeper } from '../../main/core/keeper.ts';
import type { KeeperTestHooks } from '../../main/core/keeper.ts';
import { Archive } from '../../main/core/archive/archive.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { TEST_PUBSUB } from './messages.ts';

export interface TestKeeper {
  keeper: Keeper;
  dataDir: string;
  /** From the `ready` event, as a user of the node learns them. */
  peerId: string;
  apiUrl: string;
  /** The loopback TCP address with /p2p/, for --peer and dials. */
  tcpAddr: string;
  events: KeeperEvent[];
  /** The status snapshot, as the API answers it (fails the test on an error answer). */
  status(): Promise<KeeperStatus>;
  stop(): Promise<void>;
  /** Stops (if running) and removes the data dir. */
  dispose(): Promise<void>;
}

export function testConfig(dataDir: string, overrides: Partial<KeeperConfig> = {}): KeeperConfig {
  return defaultConfig({
    dataDir,
    pubsubTopics: [TEST_PUBSUB],
    listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
    api: { host: '127.0.0.1', port: 0 },
    discovery: false,
    // Every node here shares one clock: a small margin keeps the test's stretches short.
    clockMarginMs: 200,
    ...overrides,
  });
}

export async function startKeeper(
  overrides: Partial<KeeperConfig> = {},
  dataDir?: string,
  testHooks?: KeeperTestHooks,
): Promise<TestKeeper> {
  const dir = dataDir ?? tempDataDir();
  const events: KeeperEvent[] = [];
  const keeper = await Keeper.start(testConfig(dir, overrides), { onEvent: (e) => events.push(e), testHooks });
  const ready = events.find((e) => e.event === 'ready');
  if (ready?.event !== 'ready') throw new Error('the keeper started without a ready event');
  const tcpAddr = ready.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'));
  if (tcpAddr === undefined) throw new Error('keeper has no loopback tcp address');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await keeper.stop();
  };
  return {
    keeper,
    dataDir: dir,
    peerId: ready.peerId,
    apiUrl: ready.api,
    tcpAddr,
    events,
    status: async () => {
      const r = await keeper.commands.getStatus();
      if (!r.ok) throw new Error(`getStatus: ${r.error.code}: ${r.error.message}`);
      return r.value;
    },
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes messages into a data dir's archive before a Keeper starts on it. */
export function seedArchive(dataDir: string, messages: readonly ArchiveMessage[]): void {
  const archive = Archive.open(join(dataDir, ARCHIVE_FILE));
  try {
    archive.insert(messages);
  } finally {
    archive.close();
  }
}

/**
 * Writes online coverage into a data dir before a Keeper starts on it, as if it
 * had been online then: what it attests holding to peers that ask.
 */
export function seedOnline(dataDir: string, stretches: readonly { start: number; end: number }[], pubsubTopic = TEST_PUBSUB): void {
  const archive = Archive.open(join(dataDir, ARCHIVE_FILE));
  try {
    const history = new HistoryStore(archive);
    for (const s of stretches) history.extend(history.openOnline(pubsubTopic, s.start), s.end);
  } finally {
    archive.close();
  }
}

/** A seeded archive and the online coverage that vouches for it: from an hour before the first message to now. */
export function seedHistory(dataDir: string, messages: readonly ArchiveMessage[], pubsubTopic = TEST_PUBSUB): void {
  seedArchive(dataDir, messages);
  const first = messages.reduce((min, m) => (m.timestamp < min ? m.timestamp : min), BigInt(Date.now()) * 1_000_000n);
  seedOnline(dataDir, [{ start: Number(first / 1_000_000n) - 3_600_000, end: Date.now() }], pubsubTopic);
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'keeper-it-'));
}

/** Whether `peerId` is in `k`'s relay mesh on `pubsubTopic`, as k's status says. */
export async function inMesh(k: TestKeeper, peerId: string, pubsubTopic = TEST_PUBSUB): Promise<boolean> {
  return (await k.status()).peers.some((p) => p.peerId === peerId && p.mesh.includes(pubsubTopic));
}
