/**
 * The commands the dashboard drives the Keeper with, over the local HTTP API:
 * results for good and bad input, changes visible in /api/status (and to other
 * nodes), settings that survive a restart, and the pushed stream. Each test
 * starts its own Keeper: none depends on what another left behind.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keepersContentTopic } from '../../main/core/communities/keepers-topic.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiResult, KeeperStatus } from '../../main/contract/contract.ts';
import { seedArchive, startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { archiveMessage, TEST_PUBSUB } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';

const DOODLES_KEY = 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11';
const DOODLES_ID = '0x02a3d2fdb9ac335917bf9d46b38d7496c00bbfadbaf832e8aa61d13ac2b4452084';
const DOODLES_LINK = `https://status.app/c/iyKACkQKB0Rvb2RsZXMSJ0NvbG9yaW5nIHRoZSB3b3JsZCB3aXRoIGpveSDigKIg4bSXIOKAohiYohsiByMxMzFEMkYqAwEhMwM=#${DOODLES_KEY}`;
/** Doodles' topics: its id, `<id>-memberUpdate`, its uncompressed key (status-go's DefaultFilters). */
const [ID_TOPIC, MEMBER_UPDATE, CONTROL] = ['/waku/1/0x8f887122/rfc26', '/waku/1/0xdd22b83d/rfc26', '/waku/1/0xfcb2f421/rfc26'];
const FANS = { name: 'Waku Fans', pubsubTopic: '/waku/2/rs/16/256', contentTopics: ['/waku/1/0x0badcafe/rfc26'] };

interface Driven {
  k: TestKeeper;
  call(name: string, arg: unknown, headers?: Record<string, string>): Promise<{ status: number; body: ApiResult<unknown> }>;
  status(): Promise<KeeperStatus>;
}

describe('commands over the local API', () => {
  const live: TestKeeper[] = [];
  let other: TestKeeper;

  /** A Keeper on `dir` (a new one by default), driven over HTTP with its token. */
  async function drive(dir = tempDataDir()): Promise<Driven> {
    const k = await startKeeper({}, dir);
    live.push(k);
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    return {
      k,
      call: async (name, arg, headers = {}) => {
        const res = await fetch(`${k.apiUrl}/api/commands/${name}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify(arg),
        });
        return { status: res.status, body: (await res.json()) as ApiResult<unknown> };
      },
      status: async () => {
        const res = await fetch(`${k.apiUrl}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
        return (await res.json()) as KeeperStatus;
      },
    };
  }

  before(async () => {
    other = await startKeeper();
    live.push(other);
  });
  after(async () => {
    for (const k of live.reverse()) await k.dispose();
  });

  it('asks for setup on a fresh data dir, and setup records role, community and quota', async () => {
    const { k, call, status } = await drive();
    assert.equal((await status()).settings.setupNeeded, true);
    const r = await call('setup', { role: 'volunteer', community: FANS, quotaBytes: 2_000_000_000 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = await status();
    assert.equal(s.settings.setupNeeded, false);
    assert.equal(s.settings.role, 'volunteer');
    assert.deepEqual(s.settings.communities.map((c) => c.name), ['Waku Fans']);
    assert.deepEqual(s.pubsubTopics, [TEST_PUBSUB, '/waku/2/rs/16/256']);
    // Its content topic, and the one its Keepers announce themselves on (kept alike, so a cold Keeper can fetch them).
    assert.deepEqual(s.contentTopics, ['/waku/1/0x0badcafe/rfc26', keepersContentTopic(FANS)]);
    assert.equal(s.archive.quotaBytes, 2_000_000_000);
    // Another node that connects now hears the new shard announced in Waku metadata.
    assert.ok((await other.keeper.commands.addStorePeer(k.tcpAddr)).ok);
    await waitFor('the other node to learn the shards', async () =>
      (await other.status()).peers.some((p) => p.peerId === k.peerId && p.shards.includes(256) && p.shards.includes(32)),
    );
    assert.ok((await other.keeper.commands.removeStorePeer(k.peerId)).ok);
  });

  it('refuses bad input with a status, the field, and no change', async () => {
    const { call, status } = await drive();
    assert.equal((await call('addCommunity', FANS)).status, 200);
    const before = await status();
    const cases: [string, unknown, number, string][] = [
      ['addCommunity', { name: 'x', pubsubTopic: 'nope', contentTopics: [] }, 400, 'pubsubTopic'],
      ['addCommunity', { name: '', pubsubTopic: TEST_PUBSUB, contentTopics: [] }, 400, 'name'],
      ['addCommunity', { name: 'Waku Fans', pubsubTopic: TEST_PUBSUB, contentTopics: [] }, 400, 'name'],
      ['addCommunity', { name: 'y', pubsubTopic: '/waku/2/rs/1/0', contentTopics: [] }, 400, 'pubsubTopic'],
      ['addCommunity', { name: 'z', pubsubTopic: TEST_PUBSUB, contentTopics: [42] }, 400, 'contentTopics'],
      ['addStorePeer', '/ip4/127.0.0.1/tcp/1', 400, 'multiaddr'],
      ['setStorage', { quotaBytes: 10, retentionMs: 86_400_000 }, 400, 'quotaBytes'],
      ['setRole', 'king', 400, 'role'],
      ['previewCommunity', 42, 400, 'ref'],
      ['addCommunity', { ref: 'not a link' }, 400, 'ref'],
      ['removeCommunity', { name: 5 }, 400, 'name'],
      ['removeCommunity', null, 400, 'name'],
      ['setCommunityStorage', null, 400, 'input'],
      ['setCommunityStorage', { name: 'Waku Fans', quotaBytes: null, retentionMs: 1000 }, 400, 'retentionMs'],
      ['removeCommunity', { name: 'nobody', deleteMessages: true }, 404, 'name'],
      // What names nothing known is 404, whatever kind of thing it names.
      ['removeCommunity', 'nobody', 404, 'name'],
      ['removeStorePeer', 'nobody', 404, 'peerId'],
    ];
    for (const [name, arg, code, field] of cases) {
      const r = await call(name, arg);
      assert.equal(r.status, code, `${name} ${JSON.stringify(arg)}`);
      assert.ok(!r.body.ok && r.body.error.field === field, `${name}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await call('setRole', 'owner', { 'Content-Type': 'text/plain' })).status, 415);
    const raw = await call('setRole', undefined, { 'Content-Type': 'application/json' });
    assert.equal(raw.status, 400, 'no argument at all is bad input');
    assert.equal((await call('noSuchCommand', null)).status, 404);
    const after = await status();
    assert.deepEqual(after.settings, before.settings);
    assert.deepEqual(after.pubsubTopics, before.pubsubTopics);
  });

  it('answers a body that is not JSON with 400', async () => {
    const { k } = await drive();
    const token = readFileSync(join(k.dataDir, 'api-token'), 'utf8').trim();
    const res = await fetch(`${k.apiUrl}/api/commands/setRole`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{not json',
    });
    assert.equal(res.status, 400);
  });

  it('adds and removes a store peer, which the node then dials and lists', async () => {
    const { call, status } = await drive();
    assert.equal((await call('addStorePeer', other.tcpAddr)).status, 200);
    let s = await status();
    assert.ok(s.settings.storePeers.some((a) => a.endsWith(other.peerId)));
    assert.equal(s.history.storePeers.find((p) => p.peerId === other.peerId)?.source, 'static');
    await waitFor('the node to dial the new store peer', async () => (await status()).peers.some((p) => p.peerId === other.peerId && p.static));
    assert.equal((await call('removeStorePeer', other.peerId)).status, 200);
    s = await status();
    assert.ok(!s.settings.storePeers.some((a) => a.endsWith(other.peerId)));
    assert.equal(s.history.storePeers.find((p) => p.peerId === other.peerId), undefined);
  });

  it('pushes status and log entries on the stream', async () => {
    const { k, call } = await drive();
    const token = readFileSync(join(k.dataDir, 'api-token'), 'utf8').trim();
    const ctrl = new AbortController();
    const res = await fetch(`${k.apiUrl}/api/stream`, { headers: { Authorization: `Bearer ${token}` }, signal: ctrl.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    await call('setRole', 'owner');
    const deadline = Date.now() + 5000;
    while (!(text.includes('event: status') && text.includes('"change":"role"')) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ctrl.abort();
    assert.match(text, /event: status\ndata: \{"version"/);
    assert.match(text, /event: log\ndata: \{"atMs":\d+,"level":"info","event":\{"event":"settings","change":"role"\}\}/);
  });

  it('keeps its settings across a restart', async () => {
    const dir = tempDataDir();
    const first = await drive(dir);
    assert.ok((await first.call('setup', { role: 'volunteer', community: FANS, quotaBytes: 2_000_000_000 })).body.ok);
    assert.ok((await first.call('setRole', 'owner')).body.ok);
    await first.k.stop();
    const { status } = await drive(dir);
    const s = await status();
    assert.equal(s.settings.role, 'owner');
    assert.deepEqual(s.settings.communities.map((c) => c.pubsubTopic), ['/waku/2/rs/16/256']);
    assert.equal(s.archive.quotaBytes, 2_000_000_000);
    assert.ok(s.pubsubTopics.includes('/waku/2/rs/16/256'));
  });

  it('previews a Status community from its link and changes nothing; refuses a bad one naming ref', async () => {
    const { call, status } = await drive();
    const before = await status();
    const r = await call('previewCommunity', DOODLES_LINK);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const origin = { communityId: DOODLES_ID, key: DOODLES_KEY, linkName: 'Doodles' };
    assert.deepEqual(r.body.ok && r.body.value, [
      { name: 'Doodles', pubsubTopic: TEST_PUBSUB, contentTopics: [ID_TOPIC, MEMBER_UPDATE, CONTROL], status: origin },
      { name: 'Doodles (shard 64)', pubsubTopic: '/waku/2/rs/16/64', contentTopics: [CONTROL], status: origin },
    ]);
    for (const [ref, why] of [
      ['https://status.app/u#zQ3shwQPhRuDJSjVGVBnTjCdgXy5i9WQaeVPdGJD6yTarJQSj', /user/],
      ['https://status.app/c/CxCA#zQ3shNZQnGqtqxokGkoVtFWnG9v6TJT43E3rfPxzc1eHqx3qJ', /secp256k1/],
      ['0x02', /66 hex/],
    ] as const) {
      const bad = await call('previewCommunity', ref);
      assert.equal(bad.status, 400);
      assert.ok(!bad.body.ok && bad.body.error.field === 'ref' && why.test(bad.body.error.message), JSON.stringify(bad.body));
      const add = await call('addCommunity', { ref });
      assert.ok(!add.body.ok && add.body.error.field === 'ref', JSON.stringify(add.body));
    }
    assert.deepEqual((await status()).settings, before.settings);
  });

  it('sets up with a pasted link: the community’s entries are kept, a bad link names ref and sets up nothing', async () => {
    const { call, status } = await drive();
    const bad = await call('setup', { role: 'volunteer', community: { ref: 'https://status.app/c#nope' }, quotaBytes: 2_000_000_000 });
    assert.ok(!bad.body.ok && bad.body.error.field === 'ref', JSON.stringify(bad.body));
    assert.equal((await status()).settings.setupNeeded, true);
    const r = await call('setup', { role: 'volunteer', community: { ref: DOODLES_ID, name: 'Doodles' }, quotaBytes: 2_000_000_000 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = await status();
    assert.deepEqual(s.settings.communities.map((c) => [c.name, c.pubsubTopic, c.status?.communityId]), [
      ['Doodles', TEST_PUBSUB, DOODLES_ID],
      ['Doodles (shard 64)', '/waku/2/rs/16/64', DOODLES_ID],
    ]);
    assert.deepEqual(s.pubsubTopics, [TEST_PUBSUB, '/waku/2/rs/16/64']);
  });

  it('keeps a Status community by its link, gives it storage, and removes all of it with its messages, sparing what another keeps', async () => {
    const dir = tempDataDir();
    const now = Date.now();
    const on = (pubsubTopic: string, contentTopic: string, n: number, from: number) =>
      Array.from({ length: n }, (_, i) => archiveMessage({ pubsubTopic, contentTopic, timestamp: BigInt(now - 60_000 + from + i) * 1_000_000n }));
    const doodles32 = [...on(TEST_PUBSUB, ID_TOPIC, 4, 0), ...on(TEST_PUBSUB, MEMBER_UPDATE, 6, 100)];
    const shared = on(TEST_PUBSUB, CONTROL, 3, 200);
    const doodles64 = on('/waku/2/rs/16/64', CONTROL, 2, 300);
    seedArchive(dir, [...doodles32, ...shared, ...doodles64]);
    const { call, status } = await drive(dir);
    assert.equal((await call('addCommunity', { ref: DOODLES_LINK })).status, 200);
    // Another community that keeps the control topic on shard 32: those messages must stay.
    assert.equal((await call('addCommunity', { name: 'Watchers', pubsubTopic: TEST_PUBSUB, contentTopics: [CONTROL] })).status, 200);
    let s = await status();
    assert.deepEqual(s.settings.communities.map((c) => c.name), ['Doodles', 'Doodles (shard 64)', 'Watchers']);
    assert.ok(s.pubsubTopics.includes('/waku/2/rs/16/64'), 'shard 64 is relayed for the control messages');
    assert.deepEqual(s.settings.communities[2], { name: 'Watchers', pubsubTopic: TEST_PUBSUB, contentTopics: [CONTROL] }, 'a custom community as before');
    const again = await call('addCommunity', { ref: DOODLES_KEY, name: 'Twice' });
    assert.ok(!again.body.ok && again.body.error.field === 'ref' && /kept already/.test(again.body.error.message));

    assert.equal((await call('setCommunityStorage', { name: 'Doodles', quotaBytes: 500_000_000, retentionMs: 7 * 86_400_000 })).status, 200);
    for (const [arg, field] of [
      [{ name: 'Doodles', quotaBytes: 12, retentionMs: null }, 'quotaBytes'],
      [{ name: 'Doodles', quotaBytes: null, retentionMs: 'long' }, 'retentionMs'],
      [{ name: 'Nobody', quotaBytes: null, retentionMs: null }, 'name'],
    ] as const) {
      const bad = await call('setCommunityStorage', arg);
      assert.ok(!bad.body.ok && bad.body.error.field === field, JSON.stringify(bad.body));
    }
    s = await status();
    for (const c of s.settings.communities.slice(0, 2)) assert.deepEqual([c.quotaBytes, c.retentionMs], [500_000_000, 7 * 86_400_000], c.name);
    const saved = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')) as { communities: { name: string; quotaBytes?: number; status?: unknown }[] };
    assert.equal(saved.communities[0]?.quotaBytes, 500_000_000);
    assert.deepEqual(saved.communities[0]?.status, { communityId: DOODLES_ID, key: DOODLES_KEY, linkName: 'Doodles' });

    const bad = await call('removeCommunity', { name: 'Doodles', deleteMessages: 'yes' });
    assert.ok(!bad.body.ok && bad.body.error.field === 'deleteMessages');
    const r = await call('removeCommunity', { name: 'Doodles (shard 64)', deleteMessages: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.ok && r.body.value, { removed: ['Doodles', 'Doodles (shard 64)'], deletedMessages: doodles32.length + doodles64.length });
    s = await status();
    assert.deepEqual(s.settings.communities.map((c) => c.name), ['Watchers']);
    assert.ok(!s.pubsubTopics.includes('/waku/2/rs/16/64'));
    assert.equal(s.archive.messages, shared.length, 'only what Watchers keeps is left');
    const store = await call('getLog', null);
    assert.ok(store.body.ok && (store.body.value as { event: { event: string; policy?: string } }[]).some((e) => e.event.event === 'retention' && e.event.policy === 'community-removed'));
    // Removing by name alone, as before, keeps the messages.
    const plain = await call('removeCommunity', 'Watchers');
    assert.deepEqual(plain.body.ok && plain.body.value, { removed: ['Watchers'], deletedMessages: 0 });
    assert.equal((await status()).archive.messages, shared.length);
  });
});
