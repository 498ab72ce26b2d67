/**
 * The commands the dashboard drives the Keeper with, over the local HTTP API:
 * results for good and bad input, changes visible in /api/status, settings
 * that survive a restart, and the pushed stream.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiResult, KeeperStatus } from '../../main/core/api/contract.ts';
import { startKeeper, tempDataDir } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { TEST_PUBSUB } from '../helpers/messages.ts';

describe('commands over the local API', () => {
  const dir = tempDataDir();
  let k: TestKeeper;
  let other: TestKeeper;
  let token = '';

  const call = async (name: string, arg: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: ApiResult<unknown> }> => {
    const res = await fetch(`${k.keeper.apiUrl}/api/commands/${name}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(arg),
    });
    return { status: res.status, body: (await res.json()) as ApiResult<unknown> };
  };
  const status = async (): Promise<KeeperStatus> => {
    const res = await fetch(`${k.keeper.apiUrl}/api/status`, { headers: { Authorization: `Bearer ${token}` } });
    return (await res.json()) as KeeperStatus;
  };

  before(async () => {
    k = await startKeeper({}, dir);
    other = await startKeeper();
    token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
  });
  after(async () => {
    await other?.dispose();
    await k?.dispose();
  });

  it('asks for setup on a fresh data dir, and setup records role, community and quota', async () => {
    assert.equal((await status()).settings.setupNeeded, true);
    const r = await call('setup', {
      role: 'volunteer',
      community: { name: 'Waku Fans', pubsubTopic: '/waku/2/rs/16/256', contentTopics: ['/waku/1/0x0badcafe/rfc26'] },
      quotaBytes: 2_000_000_000,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = await status();
    assert.equal(s.settings.setupNeeded, false);
    assert.equal(s.settings.role, 'volunteer');
    assert.deepEqual(s.settings.communities.map((c) => c.name), ['Waku Fans']);
    assert.deepEqual(s.pubsubTopics, [TEST_PUBSUB, '/waku/2/rs/16/256']);
    assert.deepEqual(s.contentTopics, ['/waku/1/0x0badcafe/rfc26']);
    assert.equal(s.archive.quotaBytes, 2_000_000_000);
    assert.ok(k.keeper.libp2p.services.metadata.shards.includes(256), 'the new shard is announced');
    assert.ok(k.keeper.libp2p.services.relay.getTopics().includes('/waku/2/rs/16/256'), 'and relayed');
  });

  it('refuses bad input with a status, the field, and no change', async () => {
    const before = await status();
    const cases: [string, unknown, number, string][] = [
      ['addCommunity', { name: 'x', pubsubTopic: 'nope', contentTopics: [] }, 400, 'pubsubTopic'],
      ['addCommunity', { name: '', pubsubTopic: TEST_PUBSUB, contentTopics: [] }, 400, 'name'],
      ['addCommunity', { name: 'Waku Fans', pubsubTopic: TEST_PUBSUB, contentTopics: [] }, 400, 'name'],
      ['addCommunity', { name: 'y', pubsubTopic: '/waku/2/rs/1/0', contentTopics: [] }, 400, 'pubsubTopic'],
      ['addCommunity', { name: 'z', pubsubTopic: TEST_PUBSUB, contentTopics: ['chat'] }, 400, 'contentTopics'],
      ['addStorePeer', '/ip4/127.0.0.1/tcp/1', 400, 'multiaddr'],
      ['setStorage', { quotaBytes: 10, retentionMs: 86_400_000 }, 400, 'quotaBytes'],
      ['setRole', 'king', 400, 'role'],
      ['removeCommunity', 'nobody', 400, 'name'],
    ];
    for (const [name, arg, code, field] of cases) {
      const r = await call(name, arg);
      assert.equal(r.status, code, `${name} ${JSON.stringify(arg)}`);
      assert.ok(!r.body.ok && r.body.error.field === field, `${name}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await call('removeStorePeer', 'nobody')).status, 404);
    assert.equal((await call('setRole', 'owner', { 'Content-Type': 'text/plain' })).status, 415);
    const raw = await fetch(`${k.keeper.apiUrl}/api/commands/setRole`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{not json',
    });
    assert.equal(raw.status, 400);
    assert.equal((await call('noSuchCommand', null)).status, 404);
    const after = await status();
    assert.deepEqual(after.settings, before.settings);
    assert.deepEqual(after.pubsubTopics, before.pubsubTopics);
  });

  it('adds and removes a store peer, which the node then dials and lists', async () => {
    assert.equal((await call('addStorePeer', other.tcpAddr)).status, 200);
    const id = other.keeper.peerId.toString();
    let s = await status();
    assert.ok(s.settings.storePeers.some((a) => a.endsWith(id)));
    assert.equal(s.history.storePeers.find((p) => p.peerId === id)?.source, 'static');
    assert.equal((await call('removeStorePeer', id)).status, 200);
    s = await status();
    assert.ok(!s.settings.storePeers.some((a) => a.endsWith(id)));
    assert.equal(s.history.storePeers.find((p) => p.peerId === id), undefined);
  });

  it('pushes status and log entries on the stream', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${k.keeper.apiUrl}/api/stream`, { headers: { Authorization: `Bearer ${token}` }, signal: ctrl.signal });
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
    await k.stop();
    k = await startKeeper({}, dir);
    const s = await status();
    assert.equal(s.settings.role, 'owner');
    assert.deepEqual(s.settings.communities.map((c) => c.pubsubTopic), ['/waku/2/rs/16/256']);
    assert.equal(s.archive.quotaBytes, 2_000_000_000);
    assert.ok(s.pubsubTopics.includes('/waku/2/rs/16/256'));
  });
});
