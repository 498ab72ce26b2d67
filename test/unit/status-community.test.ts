/**
 * A Status community turned into the entries Keeper keeps: one on shard 32
 * with the community id, `<id>-memberUpdate` and the uncompressed key, one on
 * shard 64 with the key; kept, removed and given storage as one community.
 * The content topics are the research's vectors (a Keccak-256 apart from this
 * code), not recomputed here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Community } from '../../main/contract/contract.ts';
import { checkCommunity } from '../../main/core/communities/community.ts';
import { deletionsFor } from '../../main/core/communities/removal.ts';
import { keepersContentTopic } from '../../main/core/communities/keepers-topic.ts';
import { isCommunityRef, shortCommunityId, statusCommunityEntries } from '../../main/core/communities/status-community.ts';
import { TopicPlan } from '../../main/core/communities/topic-plan.ts';
import { Archive } from '../../main/core/archive/archive.ts';
import { ConfigError } from '../../main/core/util/errors.ts';
import { archiveMessage } from '../helpers/messages.ts';

const DOODLES_KEY = 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11';
const DOODLES_ID = '0x02a3d2fdb9ac335917bf9d46b38d7496c00bbfadbaf832e8aa61d13ac2b4452084';
const DOODLES_LINK = `https://status.app/c/iyKACkQKB0Rvb2RsZXMSJ0NvbG9yaW5nIHRoZSB3b3JsZCB3aXRoIGpveSDigKIg4bSXIOKAohiYohsiByMxMzFEMkYqAwEhMwM=#${DOODLES_KEY}`;
const PIGS_ID = '0x02b84843377a24ff498b6c37bd63e2b285c1ee2ccbab82d7a4afa25fff8c5076df';
const S32 = '/waku/2/rs/16/32';
const S64 = '/waku/2/rs/16/64';
/** Doodles: A (the id), B (`-memberUpdate`), C (uncompressed key, no 0x). */
const A = '/waku/1/0x8f887122/rfc26';
const B = '/waku/1/0xdd22b83d/rfc26';
const C = '/waku/1/0xfcb2f421/rfc26';

const fails = (fn: () => unknown, field: string, message: RegExp): void =>
  assert.throws(fn, (err: unknown) => err instanceof ConfigError && err.field === field && message.test(err.message));

describe('a Status community as the entries Keeper keeps', () => {
  it('derives one entry on shard 32 (id, memberUpdate, key) and one on 64 (key), named from the link', () => {
    const entries = statusCommunityEntries({ ref: DOODLES_LINK });
    const origin = { communityId: DOODLES_ID, key: DOODLES_KEY, linkName: 'Doodles' };
    assert.deepEqual(entries, [
      { name: 'Doodles', pubsubTopic: S32, contentTopics: [A, B, C], status: origin },
      { name: 'Doodles (shard 64)', pubsubTopic: S64, contentTopics: [C], status: origin },
    ]);
    // Each passes the rules a kept community passes, origin and all.
    for (const e of entries) assert.deepEqual(checkCommunity(e), e);
  });

  it('takes the same community by bare key or by id, named by a short id unless given a name', () => {
    const byKey = statusCommunityEntries(DOODLES_KEY);
    const byId = statusCommunityEntries({ ref: DOODLES_ID.toUpperCase().replace('0X', '0x') });
    assert.equal(shortCommunityId(DOODLES_ID), '0x02a3d2…2084');
    assert.deepEqual(byKey.map((e) => e.name), ['0x02a3d2…2084', '0x02a3d2…2084 (shard 64)']);
    assert.deepEqual(byId.map((e) => e.contentTopics), [[A, B, C], [C]]);
    assert.equal(byId[0]!.status!.linkName, null);
    assert.deepEqual(statusCommunityEntries({ ref: DOODLES_LINK, name: '  Our doodles ' }).map((e) => e.name), ['Our doodles', 'Our doodles (shard 64)']);
    assert.equal(isCommunityRef({ ref: DOODLES_KEY }), true);
    assert.equal(isCommunityRef({ name: 'x', pubsubTopic: S32, contentTopics: [] }), false);
  });

  it('refuses what is not a community, naming the field and what is wrong', () => {
    fails(() => statusCommunityEntries({ ref: 'https://status.app/u#zQ3shwQPhRuDJSjVGVBnTjCdgXy5i9WQaeVPdGJD6yTarJQSj' }), 'ref', /user/);
    fails(() => statusCommunityEntries('zQ3shNZQnGqtqxokGkoVtFWnG9v6TJT43E3rfPxzc1eHqx3qJ'), 'ref', /not a point on secp256k1/);
    fails(() => statusCommunityEntries('0x1234', '--community'), '--community', /66 hex digits/);
    fails(() => statusCommunityEntries({ ref: 42 } as never), 'ref', /link, key/);
    fails(() => statusCommunityEntries({ ref: DOODLES_KEY, name: 'x'.repeat(70) }), 'name', /characters/);
  });

  it('refuses a stored origin whose key and id disagree', () => {
    const [e] = statusCommunityEntries(DOODLES_KEY);
    fails(() => checkCommunity({ ...e, status: { ...e!.status, communityId: PIGS_ID } }), 'status.key', /zQ3/);
    fails(() => checkCommunity({ ...e, status: { ...e!.status, communityId: '0x02' } }), 'status.communityId', /66 hex/);
    fails(() => checkCommunity({ ...e, quotaBytes: 5 }), 'quotaBytes', /1 MiB/);
    fails(() => checkCommunity({ ...e, retentionMs: -1 }), 'retentionMs', /minute/);
  });
});

describe('the topic plan with a Status community', () => {
  const custom: Community = { name: 'Fans', pubsubTopic: S32, contentTopics: ['/waku/1/0x0badcafe/rfc26'] };

  it('keeps all its entries at once, refuses it twice, and keeps custom communities as they are', () => {
    const plan = new TopicPlan(16, [S32], [], [custom]);
    const change = plan.addAll(statusCommunityEntries(DOODLES_LINK));
    assert.deepEqual(change, { added: [S64], removed: [] });
    assert.deepEqual(plan.communities.map((c) => c.name), ['Fans', 'Doodles', 'Doodles (shard 64)']);
    assert.deepEqual(plan.communities[0], custom);
    assert.ok(plan.keeps(A) && plan.keeps(B) && plan.keeps(C) && plan.keeps(custom.contentTopics[0]!));
    fails(() => plan.addAll(statusCommunityEntries({ ref: DOODLES_KEY, name: 'Again' })), 'ref', /kept already, as "Doodles"/);
    assert.equal(plan.communities.length, 3, 'nothing added by the refused one');
  });

  it('removes every entry of a Status community by the name of any one, and gives them one storage', () => {
    const plan = new TopicPlan(16, [S32], [], [custom, ...statusCommunityEntries(DOODLES_LINK)]);
    const changed = plan.setStorage('Doodles (shard 64)', 2e9, 7 * 86_400_000);
    assert.deepEqual(changed.map((c) => [c.name, c.quotaBytes, c.retentionMs]), [['Doodles', 2e9, 7 * 86_400_000], ['Doodles (shard 64)', 2e9, 7 * 86_400_000]]);
    fails(() => plan.setStorage('Doodles', 10, null), 'quotaBytes', /1 MiB/);
    assert.equal(plan.communities[1]!.quotaBytes, 2e9, 'a refused change changes nothing');
    const r = plan.remove('Doodles (shard 64)');
    assert.deepEqual(r.removedCommunities.map((c) => c.name), ['Doodles', 'Doodles (shard 64)']);
    assert.deepEqual(r.removed, [S64]);
    assert.deepEqual(plan.communities, [custom]);
  });
});

describe('what goes with a removed community', () => {
  const doodles = statusCommunityEntries(DOODLES_LINK);

  it('its topics on its pubsub topics, except what another kept community keeps there', () => {
    const other: Community = { name: 'Other', pubsubTopic: S32, contentTopics: [C, '/x'] };
    // Its Keepers' announcements go with it; another community's stay.
    const keepers = keepersContentTopic(doodles[0]!);
    assert.deepEqual(deletionsFor(doodles, [other], []), [
      { pubsubTopic: S32, contentTopics: [A, B, keepers], keep: [C, '/x', keepersContentTopic(other)] },
      { pubsubTopic: S64, contentTopics: [C, keepers], keep: [] },
    ]);
    // A flag's content topic stays everywhere; a community keeping all of a topic keeps it all.
    assert.deepEqual(deletionsFor(doodles, [{ name: 'All', pubsubTopic: S64, contentTopics: [] }], [A]), [{ pubsubTopic: S32, contentTopics: [B, C, keepers], keep: [A] }]);
    // A custom community keeping everything on its topic takes everything but what others keep.
    assert.deepEqual(deletionsFor([{ name: 'All', pubsubTopic: S32, contentTopics: [] }], doodles, []), [{ pubsubTopic: S32, contentTopics: null, keep: [A, B, C, keepers] }]);
  });

  it('the archive deletes exactly those, in batches, and its topic counts follow', () => {
    const archive = Archive.open(':memory:');
    const at = (i: number): bigint => BigInt(Date.now() - 1000 + i) * 1_000_000n;
    const msgs = [
      ...[A, B, C, '/keep'].flatMap((t, k) => Array.from({ length: 5 }, (_, i) => archiveMessage({ contentTopic: t, timestamp: at(k * 10 + i), pubsubTopic: S32 }))),
      ...Array.from({ length: 3 }, (_, i) => archiveMessage({ contentTopic: A, timestamp: at(100 + i), pubsubTopic: S64 })),
    ];
    archive.insert(msgs);
    let first = archive.deleteContent(S32, [A, B], [B], 3);
    assert.equal(first.messages, 3);
    first = archive.deleteContent(S32, [A, B], [B], 3);
    assert.equal(first.messages, 2);
    assert.equal(archive.deleteContent(S32, [A, B], [B], 3).messages, 0);
    for (const m of msgs) assert.equal(archive.has(m.hash), !(m.contentTopic === A && m.pubsubTopic === S32), `${m.contentTopic} on ${m.pubsubTopic}`);
    assert.equal(archive.deleteContent(S32, null, ['/keep'], 100).messages, 10);
    const s32 = archive.stats().topics.find((t) => t.pubsubTopic === S32);
    assert.equal(s32?.messages, 5, 'only /keep is left on 32');
    assert.equal(archive.stats().topics.find((t) => t.pubsubTopic === S64)?.messages, 3, 'the other pubsub topic is untouched');
    archive.close();
  });
});
