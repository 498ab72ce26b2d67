/**
 * Crashes: a Keeper killed with SIGKILL at random moments while it ingests
 * relay traffic and fills a gap. After each kill its database is intact,
 * everything it served before the kill is still there, its coverage claims no
 * time it was down, and on the last restart the interrupted fill completes.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import { join } from 'node:path';
import { Archive } from '../../main/core/archive/archive.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { ARCHIVE_FILE } from '../../main/core/settings/paths.ts';
import { seedHistory, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { startKeeperProcess } from '../helpers/keeper-process.ts';
import type { KeeperProcess } from '../helpers/keeper-process.ts';
import { archiveMessage, hex, TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { servedHashes } from '../helpers/store-node.ts';
import { startStoreClient } from '../helpers/store-client.ts';
import type { Libp2p } from '@libp2p/interface';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { pick, report } from './scale.ts';

const MS = 1_000_000n;

describe('SIGKILL during relay ingest and gap filling', () => {
  let a: TestKeeper | undefined;
  let reader: Libp2p | undefined;
  let publisher: WakuClient | undefined;
  let b: KeeperProcess | undefined;
  let publish: NodeJS.Timeout | undefined;
  after(async () => {
    clearInterval(publish);
    await b?.kill();
    await publisher?.stop();
    await reader?.stop();
    await a?.dispose();
  });

  it('loses nothing it served, claims no downtime, and resumes its fill', async () => {
    const kills = pick(3, 20);
    // A holds two days of history (the gap B fills) and relays live traffic to B.
    const start = Date.now() - 49 * 3_600_000;
    const total = pick(20_000, 40_000);
    const seeded = Array.from({ length: total }, (_, i) =>
      archiveMessage({ contentTopic: TEST_CONTENT[i % 3], timestamp: BigInt(start + Math.floor((i * 48 * 3_600_000) / total)) * MS, payload: Buffer.alloc(800, i % 251) }),
    );
    const aDir = tempDataDir();
    seedHistory(aDir, seeded);
    a = await startKeeper({ storeRateLimit: { capacity: 400, perSecond: 100 } }, aDir);
    reader = await startStoreClient();
    publisher = await startWakuClient({ pubsubTopics: [TEST_PUBSUB] });
    await dial(publisher, a.tcpAddr);
    let published = 0;
    publish = setInterval(() => {
      const nowNs = BigInt(Date.now()) * MS;
      for (let i = 0; i < 5; i++) {
        const n = published++;
        void publisher!.publish(TEST_PUBSUB, { contentTopic: TEST_CONTENT[n % 3] ?? '', payload: Buffer.from(`live ${n}`), timestamp: nowNs + BigInt(i) });
      }
    }, 50);

    const bDir = tempDataDir();
    const args = ['--peer', a.tcpAddr, '--store-peer', a.tcpAddr, '--fill-quorum', '1', '--heartbeat', '200ms', '--store-rate', '1000000'];
    let seed = 2026;
    const rand = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
    const checked = { served: 0, filledRows: 0, onlineRows: 0 };
    for (let i = 0; i < kills; i++) {
      b = await startKeeperProcess(bDir, args, TEST_PUBSUB);
      await new Promise((r) => setTimeout(r, 300 + rand(2200)));
      const served = await servedHashes(reader, multiaddr(b.tcpAddr), TEST_PUBSUB).catch(() => [] as string[]);
      const killedAt = Date.now();
      await b.kill();

      const archive = Archive.open(join(bDir, ARCHIVE_FILE));
      try {
        assert.equal(archive.integrityCheck(), 'ok', `integrity after kill ${i + 1}`);
        for (const h of served) assert.ok(archive.has(Buffer.from(h, 'hex')), `kill ${i + 1}: a served message survived`);
        checked.served += served.length;
        const coverage = new HistoryStore(archive).coverage(TEST_PUBSUB);
        for (const row of coverage) {
          if (row.kind === 'online') {
            assert.ok(row.end <= killedAt, `kill ${i + 1}: an online interval ends after the kill`);
            checked.onlineRows++;
          } else {
            // A filled window holds every message of A's history inside it.
            for (const m of seeded) {
              if (m.timestamp >= BigInt(row.start) * MS && m.timestamp <= BigInt(row.end) * MS) assert.ok(archive.has(m.hash), `kill ${i + 1}: filled but missing`);
            }
            checked.filledRows++;
          }
        }
      } finally {
        archive.close();
      }
    }

    // The last start: the interrupted fill resumes and completes.
    b = await startKeeperProcess(bDir, args, TEST_PUBSUB);
    await waitFor('the fill to complete', async () => {
      const s = await b!.status();
      return s.history.fill.lastPass !== null && s.history.fill.lastPass.open === 0 && !s.history.fill.running;
    }, { timeoutMs: 120_000, intervalMs: 200 });
    const held = new Set(await servedHashes(reader, multiaddr(b.tcpAddr), TEST_PUBSUB));
    const missing = seeded.filter((m) => !held.has(hex(m.hash))).length;
    assert.equal(missing, 0, 'all of the gap is held');
    const s = await b.status();
    report(
      `crash: ${kills} SIGKILLs during ingest and fill; ${checked.served} served messages checked after kills, ` +
        `${checked.onlineRows} online and ${checked.filledRows} filled coverage rows checked; final: ${s.archive.messages} messages, integrity ok, ${published} published live`,
    );
  });
});
