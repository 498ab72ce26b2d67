/**
 * The store-peer registry's side of announcements: announcers become store
 * peers (a configured one stays configured), gap filling's order follows
 * what they claim of the gap, and a peer that attests less than it announced
 * loses standing — beyond a minute's slack, never within it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { StorePeerRegistry } from '../../main/core/history/store-peers.ts';
import type { Interval } from '../../main/core/util/intervals.ts';

const T = '/waku/2/rs/16/32';
const MIN = 60_000;

function registry(claims: Record<string, Interval[]>, endorsed: string[] = []) {
  const archive = Archive.open(':memory:');
  const r = new StorePeerRegistry(new HistoryStore(archive), 'self', { isConnected: () => true, now: () => 1_000 * MIN });
  r.setClaims((id, topic) => ({ held: topic === T ? (claims[id] ?? []) : [], endorsed: endorsed.includes(id) }));
  return { r, close: () => archive.close() };
}

describe('announced store peers', () => {
  it('become store peers with source "announced"; a configured peer stays configured, and this Keeper is never one', () => {
    const { r, close } = registry({});
    r.addAnnounced('a', ['/ip4/127.0.0.1/tcp/1']);
    r.addStatic('s', '/ip4/127.0.0.1/tcp/2/p2p/s');
    r.addAnnounced('s', ['/ip4/127.0.0.1/tcp/3']);
    r.addAnnounced('self', ['/ip4/127.0.0.1/tcp/4']);
    assert.deepEqual(r.status().map((p) => [p.peerId, p.source]), [['a', 'announced'], ['s', 'static']]);
    assert.deepEqual(r.get('s')?.addrs, ['/ip4/127.0.0.1/tcp/2/p2p/s']);
    close();
  });

  it('orders candidates by what they claim of the gap, then endorsement', () => {
    const { r, close } = registry({ all: [{ start: 0, end: 100 * MIN }], half: [{ start: 50 * MIN, end: 100 * MIN }], none: [] }, ['endorsed']);
    for (const id of ['none', 'half', 'all', 'endorsed']) r.addAnnounced(id, []);
    const gap = { pubsubTopic: T, window: { start: 0, end: 100 * MIN } };
    assert.deepEqual(r.candidates(gap).map((p) => p.peerId), ['all', 'half', 'endorsed', 'none']);
    // On another topic nobody claims anything: endorsement breaks the tie.
    assert.equal(r.candidates({ pubsubTopic: '/waku/2/rs/16/64', window: gap.window })[0]?.peerId, 'endorsed');
    close();
  });

  it('a peer attesting less than it announced loses standing; a minute short does not', () => {
    const { r, close } = registry({ liar: [{ start: 0, end: 60 * MIN }], honest: [{ start: 0, end: 60 * MIN }] });
    r.addAnnounced('liar', []);
    r.addAnnounced('honest', []);
    const window = { start: 0, end: 60 * MIN };
    assert.equal(r.checkClaim('honest', T, window, [{ start: 30_000, end: 60 * MIN - 20_000 }]), false);
    assert.equal(r.mayAttest('honest'), true);
    assert.equal(r.checkClaim('liar', T, window, [{ start: 40 * MIN, end: 60 * MIN }]), true);
    assert.equal(r.mayAttest('liar'), false);
    assert.match(r.get('liar')?.standingReason ?? '', /announced holding 40 min/);
    close();
  });
});
