/**
 * Status community links, keys and ids, and the topics a joined community
 * uses. The vectors are status-go's own (services/sharedurls/service_test.go,
 * pkg/multiformat tests) and topics computed apart from this code (a separate
 * Keccak-256, checked against its known digests).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommunityLinkError, encodeCommunityKey, parseCommunityRef, statusCommunityTopics, statusContentTopic } from '../../main/core/communities/status-link.ts';
import { base58Decode, base58Encode } from '../../main/core/util/base58.ts';

const DOODLES_KEY = 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11';
const DOODLES_ID = '0x02a3d2fdb9ac335917bf9d46b38d7496c00bbfadbaf832e8aa61d13ac2b4452084';
const PIGS_KEY = 'zQ3shZp9gY1FXfYkcd3CMrFLHriHQfrXvpF9XbZMwJhTcZsq8';
const PIGS_ID = '0x02b84843377a24ff498b6c37bd63e2b285c1ee2ccbab82d7a4afa25fff8c5076df';

describe('a Status community from its link, key or id', () => {
  it('reads status-go’s community links, display data included', () => {
    const d = parseCommunityRef(
      `https://status.app/c/iyKACkQKB0Rvb2RsZXMSJ0NvbG9yaW5nIHRoZSB3b3JsZCB3aXRoIGpveSDigKIg4bSXIOKAohiYohsiByMxMzFEMkYqAwEhMwM=#${DOODLES_KEY}`,
    );
    assert.equal(d.id, DOODLES_ID);
    assert.equal(d.from, 'link');
    assert.deepEqual(d.display, { name: 'Doodles', description: 'Coloring the world with joy • ᴗ •', membersCount: 446744, color: '#131D2F', tags: [1, 33, 51] });
    const p = parseCommunityRef(`https://status.app/c/CxCACh8KBFBJR1MSDHdlIGxvdmUgcGlncxgBIgcjRDM0NEM1Aw==#${PIGS_KEY}`);
    assert.equal(p.id, PIGS_ID);
    assert.deepEqual(p.display, { name: 'PIGS', description: 'we love pigs', membersCount: 1, color: '#D344C5', tags: [] });
    const tagged = parseCommunityRef(`https://status.app/c/CxKACiMKBFBJR1MSDHdlIGxvdmUgcGlncxgBIgcjRDM0NEM1KgIjHgM=#${PIGS_KEY}`);
    assert.deepEqual(tagged.display?.tags, [35, 30]);
    const bare = parseCommunityRef(`https://status.app/c#${DOODLES_KEY}`);
    assert.equal(bare.id, DOODLES_ID);
    assert.equal(bare.display, null);
  });

  it('reads channel links, by channel id and with data', () => {
    const byId = parseCommunityRef(`https://status.app/cc/003cdcd5-e065-48f9-b166-b1a94ac75a11#${DOODLES_KEY}`);
    assert.equal(byId.id, DOODLES_ID);
    assert.deepEqual(byId.channel, { uuid: '003cdcd5-e065-48f9-b166-b1a94ac75a11', name: null, emoji: null });
    const withData = parseCommunityRef(
      'https://status.app/cc/G54AAKwObLdpiGjXnckYzRcOSq0QQAS_CURGfqVU42ceGHCObstUIknTTZDOKF3E8y2MSicncpO7fTskXnoACiPKeejvjtLTGWNxUhlT7fyQS7Jrr33UVHluxv_PLjV2ePGw5GQ33innzeK34pInIgUGs5RjdQifMVmURalxxQKwiuoY5zwIjixWWRHqjHM=#' +
        DOODLES_KEY,
    );
    assert.equal(withData.id, DOODLES_ID);
    assert.equal(withData.channel?.name, 'design');
    assert.equal(withData.channel?.emoji, '🍿');
    assert.equal(withData.channel?.uuid, '003cdcd5-e065-48f9-b166-b1a94ac75a11');
    assert.equal(withData.display?.name, 'Doodles');
  });

  it('takes a bare key or an id, and gives the same community', () => {
    assert.equal(parseCommunityRef(DOODLES_KEY).id, DOODLES_ID);
    assert.equal(parseCommunityRef(`  ${DOODLES_KEY}\n`).from, 'key');
    const byId = parseCommunityRef(DOODLES_ID.toUpperCase().replace('0X', '0x'));
    assert.equal(byId.id, DOODLES_ID, 'the id comes out lowercase');
    assert.equal(byId.key, DOODLES_KEY);
    assert.equal(byId.from, 'id');
    // pkg/multiformat's vector: the same key, serialized.
    assert.equal(parseCommunityRef('zQ3shPyZJnxZK4Bwyx9QsaksNKDYTPmpwPvGSjMYVHoXHeEgB').id, '0x02261c55675e55ff25edb50b345cfb3a3f35f60712d251cbaaab97bd50054c6ebc');
    assert.equal(encodeCommunityKey(Buffer.from('02261c55675e55ff25edb50b345cfb3a3f35f60712d251cbaaab97bd50054c6ebc', 'hex')), 'zQ3shPyZJnxZK4Bwyx9QsaksNKDYTPmpwPvGSjMYVHoXHeEgB');
  });

  it('refuses what is not a community, saying what is wrong', () => {
    const refused = (input: string, why: RegExp): void => {
      assert.throws(() => parseCommunityRef(input), (err: unknown) => err instanceof CommunityLinkError && why.test(err.message), input);
    };
    // status-go's wrong URLs.
    refused(`https://status.appc/#${DOODLES_KEY}`, /not a Status link/);
    refused(`https://status.app/cc#${DOODLES_KEY}`, /not a community link/);
    refused(`https://status.app/a#${DOODLES_KEY}`, /not a community link/);
    refused(`https://status.im/u#${DOODLES_KEY}`, /not a Status link/);
    refused('https://status.app/u#zQ3shwQPhRuDJSjVGVBnTjCdgXy5i9WQaeVPdGJD6yTarJQSj', /a Status user/);
    refused('https://status.app/c/CxCACh8KBFBJR1MS', /no "#"/);
    refused('https://status.app/c#', /nothing after "#"/);
    // 02 ‖ 11×32: well formed, but x³+7 has no square root there.
    refused('zQ3shNZQnGqtqxokGkoVtFWnG9v6TJT43E3rfPxzc1eHqx3qJ', /not a point on secp256k1/);
    refused('0x021111111111111111111111111111111111111111111111111111111111111111', /not a point/);
    refused(`${DOODLES_KEY.slice(0, 20)}0${DOODLES_KEY.slice(21)}`, /not base58/);
    refused(`z${base58Encode(Uint8Array.from([0xea, 0x01, ...Buffer.from(DOODLES_ID.slice(2), 'hex')]))}`, /multicodec is not e7 01/);
    refused(`z${base58Encode(Uint8Array.from([0xe7, 0x01, ...Buffer.from(DOODLES_ID.slice(2, 60), 'hex')]))}`, /29 bytes/);
    refused(DOODLES_ID.slice(0, 40), /66 hex digits/);
    refused(`0x04${DOODLES_ID.slice(4)}`, /begin 02 or 03/);
    refused('0xzz', /not hex/);
    refused(`https://status.app/c/AAAA#${DOODLES_KEY}`, /does not decompress/);
    refused(`https://status.app/c/ab%cd#${DOODLES_KEY}`, /not URL-safe base64/);
    refused('/waku/1/0x1234abcd/rfc26', /not a Status community link/);
    refused('', /empty/);
  });

  it('base58btc round-trips, leading zeros included', () => {
    for (const hex of ['', '00', '0000ff', 'e70102a3d2', 'ffffffffffffffff']) {
      const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
      assert.equal(Buffer.from(base58Decode(base58Encode(bytes))).toString('hex'), hex);
    }
    assert.equal(base58Encode(Buffer.from('hello world')), 'StV1DL6CwTryKyV');
  });
});

describe('the topics a joined Status community uses', () => {
  it('derives status-go’s content topics: keccak256 of the chat id as text, first 4 bytes', () => {
    assert.equal(statusContentTopic(''), '/waku/1/0xc5d24601/rfc26');
    const topics = statusCommunityTopics(DOODLES_ID);
    assert.deepEqual(
      topics.map((t) => [t.contentTopic, t.pubsubTopics]),
      [
        ['/waku/1/0x8f887122/rfc26', ['/waku/2/rs/16/32']],
        ['/waku/1/0xdd22b83d/rfc26', ['/waku/2/rs/16/32']],
        ['/waku/1/0xfcb2f421/rfc26', ['/waku/2/rs/16/32', '/waku/2/rs/16/64']],
      ],
    );
    assert.equal(topics[1]?.chatId, `${DOODLES_ID}-memberUpdate`);
    assert.match(topics[2]?.chatId ?? '', /^04a3d2fdb9ac/);
    assert.deepEqual(statusCommunityTopics(PIGS_ID).map((t) => t.contentTopic), ['/waku/1/0x8a9888be/rfc26', '/waku/1/0x8b8153e5/rfc26', '/waku/1/0x75e17286/rfc26']);
  });
});
