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

/** Claims believed at `believedMs` (this Keeper's clock) unless a peer's own time is given. */
function registry(claims: Record<string, Interval[]>, endorsed: string[] = [], believed: Record<string, number> = {}) {
  const archive = Archive.open(':memory:');
  const r = new StorePeerRegistry(new HistoryStore(archive), 'self', { isConnected: () => true, now: () => 1_000 * MIN });
  r.setClaims((id, topic) => {
    const held = topic === T ? (claims[id] ?? []) : [];
    return { held, endorsed: endorsed.includes(id), believedMs: held.length === 0 ? null : (believed[id] ?? 990 * MIN) };
  });
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
    assert.equal(r.checkClaim('honest', T, window, [{ start: 30_000, end: 60 * MIN - 20_000 }], 1_000 * MIN), false);
    assert.equal(r.mayAttest('honest'), true);
    assert.equal(r.checkClaim('liar', T, window, [{ start: 40 * MIN, end: 60 * MIN }], 1_000 * MIN), true);
    assert.equal(r.mayAttest('liar'), false);
    assert.match(r.get('liar')?.standingReason ?? '', /announced holding 40 min/);
    close();
  });

  it('an announcement believed after the question is not held against the answer: the peer may have filled since', () => {
    const { r, close } = registry({ filled: [{ start: 0, end: 60 * MIN }] }, [], { filled: 995 * MIN });
    r.addAnnounced('filled', []);
    const window = { start: 0, end: 60 * MIN };
    assert.equal(r.checkClaim('filled', T, window, [{ start: 40 * MIN, end: 60 * MIN }], 994 * MIN), false);
    assert.equal(r.mayAttest('filled'), true);
    // Asked again after that announcement, the same short answer finds it out.
    assert.equal(r.checkClaim('filled', T, window, [{ start: 40 * MIN, end: 60 * MIN }], 996 * MIN), true);
    close();
  });

  it('a peer asked before it announced holding a stretch is worth asking again; one that claims a minute of it or nothing new is not', () => {
    const { r, close } = registry(
      { late: [{ start: 0, end: 60 * MIN }], sliver: [{ start: 59.5 * MIN, end: 70 * MIN }], other: [{ start: 0, end: 60 * MIN }] },
      [],
      { late: 995 * MIN, sliver: 995 * MIN, other: 980 * MIN },
    );
    const stretch = { start: 10 * MIN, end: 60 * MIN };
    assert.equal(r.claimsAfresh('late', T, stretch, 990 * MIN), true);
    assert.equal(r.claimsAfresh('late', T, stretch, 996 * MIN), false, 'asked since it said so');
    assert.equal(r.claimsAfresh('sliver', T, stretch, 990 * MIN), false, 'within the slack');
    assert.equal(r.claimsAfresh('other', T, stretch, 990 * MIN), false, 'believed before it was asked');
    assert.equal(r.claimsAfresh('late', '/waku/2/rs/16/64', stretch, 990 * MIN), false, 'another topic');
    close();
  });
});
