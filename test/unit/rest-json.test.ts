/**
 * The REST API's pure parts that speak nwaku's formats: autosharding against
 * nwaku's own test vectors, int64 timestamps as JSON numbers of all their
 * digits, and WakuMessages in and out of nwaku's relay and store JSON.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { proto_message } from '@waku/proto';
import { autoShard, parseContentTopic } from '../../main/core/message/topics.ts';
import { decodeWakuMessage } from '../../main/core/message/wire.ts';
import { parseJson, toJson } from '../../main/core/rest/json.ts';
import {
  encodeRelayMessage,
  fieldsOfProto,
  fieldsOfWire,
  fromBase64,
  INT64_KEYS,
  readRelayMessage,
  relayMessageJson,
  storeMessageJson,
} from '../../main/core/rest/message-json.ts';
import { autoShardCount, autoShardTopic } from '../../main/core/rest/publish.ts';

const TS = 1_796_000_000_123_456_789n; // beyond 2^53: a double would round it

describe('autosharding, as nwaku derives a shard', () => {
  it("matches nwaku's vectors (tests/waku_core/topics/test_sharding.nim and test_rest_relay.nim, 8 shards)", () => {
    const vectors: [string, number][] = [
      ['/toychat/2/huilong/proto', 3],
      ['/0/toychat/2/huilong/proto', 3],
      ['/toychat2/2/huilong/proto', 6],
      ['/0/toychat2/2/huilong/proto', 6],
      ['/toychat/2/huilong/proto2', 3],
      ['/0/toychat/4/huilong/proto2', 7],
      ['/app-1/2/default-content/proto', 7],
      ['/app-2/2/default-content/proto', 5],
      ['/app-3/2/default-content/proto', 2],
    ];
    for (const [topic, shard] of vectors) {
      const parts = parseContentTopic(topic);
      assert.ok(parts, topic);
      assert.equal(autoShard(parts, 8), shard, topic);
    }
  });

  it('hashes only application and version: name and encoding do not move a topic', () => {
    const a = parseContentTopic('/myapp/1/room-a/proto');
    const b = parseContentTopic('/myapp/1/room-b/json');
    assert.ok(a && b);
    assert.equal(autoShard(a, 1024), autoShard(b, 1024));
  });

  it("uses nwaku's shard counts: 8 on The Waku Network, 1 elsewhere", () => {
    assert.equal(autoShardCount(1), 8);
    assert.equal(autoShardCount(16), 1);
    assert.deepEqual(autoShardTopic('/toychat/2/huilong/proto', 1), { ok: true, topic: '/waku/2/rs/1/3' });
    assert.deepEqual(autoShardTopic('/toychat/2/huilong/proto', 16), { ok: true, topic: '/waku/2/rs/16/0' });
  });

  it("refuses what nwaku cannot shard, in nwaku's words", () => {
    assert.deepEqual(autoShardTopic('invalid', 1), { ok: false, error: "invalid format: content-topic 'invalid' must start with slash" });
    assert.deepEqual(autoShardTopic('/1/toychat/2/huilong/proto', 1), { ok: false, error: 'Generation > 0 are not supported yet' });
    const r = autoShardTopic('/only/three/parts', 1);
    assert.ok(!r.ok && r.error.startsWith('invalid format: Invalid content topic structure.'));
  });
});

describe('JSON with int64 timestamps', () => {
  it('reads a timestamp with all its digits, and leaves other numbers alone', () => {
    const v = parseJson(`{"timestamp":${TS},"version":1,"x":1.5,"nested":{"timestamp":7}}`, INT64_KEYS) as Record<string, unknown>;
    assert.equal(v.timestamp, TS);
    assert.equal(v.version, 1);
    assert.equal(v.x, 1.5);
    assert.equal((v.nested as Record<string, unknown>).timestamp, 7n);
    // A fraction or an exponent is no int64: it stays a number, for the reader to refuse.
    assert.equal((parseJson('{"timestamp":1e18}', INT64_KEYS) as Record<string, unknown>).timestamp, 1e18);
  });

  it('writes bigints as JSON numbers, as nwaku writes int64 (not strings)', () => {
    assert.equal(toJson({ timestamp: TS, list: [-(2n ** 63n)] }), `{"timestamp":${TS},"list":[-9223372036854775808]}`);
  });
});

describe("nwaku's RelayWakuMessage", () => {
  const read = (text: string) => readRelayMessage(parseJson(text, INT64_KEYS));

  it('reads a full message and a minimal one', () => {
    const full = read(`{"payload":"aGk=","contentTopic":"/a/1/b/proto","version":2,"timestamp":${TS},"meta":"bWV0YQ==","ephemeral":true,"proof":"","extra":1}`);
    assert.deepEqual(full, {
      ok: true,
      value: { payload: 'aGk=', contentTopic: '/a/1/b/proto', version: 2, timestamp: TS, meta: 'bWV0YQ==', ephemeral: true, proof: '' },
    });
    const min = read('{"payload":"aGk=","contentTopic":"some/topic"}');
    assert.ok(min.ok && min.value.timestamp === undefined && min.value.version === undefined);
  });

  it("refuses what nwaku's reader refuses, saying which field", () => {
    const cases: [string, RegExp][] = [
      ['[]', /JSON object/],
      ['{"contentTopic":"/a/1/b/c"}', /`payload` is missing or empty/],
      ['{"payload":"  ","contentTopic":"/a/1/b/c"}', /`payload` is missing or empty/],
      ['{"payload":"aGk="}', /`contentTopic` is missing or empty/],
      ['{"payload":"aGk=","contentTopic":" "}', /`contentTopic` is missing or empty/],
      ['{"payload":5,"contentTopic":"/a/1/b/c"}', /`payload` must be a string/],
      ['{"payload":"aGk=","contentTopic":"/a/1/b/c","timestamp":"17"}', /`timestamp` must be an integer/],
      ['{"payload":"aGk=","contentTopic":"/a/1/b/c","timestamp":1.5}', /`timestamp` must be an integer/],
      ['{"payload":"aGk=","contentTopic":"/a/1/b/c","timestamp":9223372036854775808}', /`timestamp` must be an integer/],
      ['{"payload":"aGk=","contentTopic":"/a/1/b/c","version":-1}', /`version`/],
      ['{"payload":"aGk=","contentTopic":"/a/1/b/c","ephemeral":"yes"}', /`ephemeral`/],
    ];
    for (const [text, why] of cases) {
      const r = read(text);
      assert.ok(!r.ok, text);
      assert.match(r.error, why, text);
    }
  });

  it('decodes only strict, padded base64', () => {
    assert.deepEqual(fromBase64('aGk='), new Uint8Array([0x68, 0x69]));
    assert.deepEqual(fromBase64(''), new Uint8Array(0));
    for (const bad of ['aGk', 'a$k=', 'aGk=aGk=', 'aG k=', '====']) assert.equal(fromBase64(bad), undefined, bad);
  });

  it('encodes the message it stands for, with a missing or zero timestamp set to now', () => {
    const now = 1_796_000_000_000_000_000n;
    for (const timestamp of [undefined, 0n]) {
      const e = encodeRelayMessage({ payload: 'aGk=', contentTopic: '/a/1/b/c', timestamp }, now);
      assert.ok(e.ok);
      assert.equal(e.value.timestamp, now);
      assert.equal(decodeWakuMessage(e.value.bytes).timestamp, now);
    }
    const given = encodeRelayMessage({ payload: 'aGk=', contentTopic: '/a/1/b/c', timestamp: TS, meta: 'bWV0YQ==', version: 1, ephemeral: true, proof: 'AQID' }, 1n);
    assert.ok(given.ok);
    const w = decodeWakuMessage(given.value.bytes);
    assert.equal(w.timestamp, TS);
    assert.equal(Buffer.from(w.payload).toString(), 'hi');
    assert.equal(Buffer.from(w.meta ?? []).toString(), 'meta');
    assert.equal(w.version, 1);
    assert.equal(w.ephemeral, true);
    assert.deepEqual(w.rateLimitProof, new Uint8Array([1, 2, 3]));
    assert.deepEqual(encodeRelayMessage({ payload: 'not base64!', contentTopic: '/a/1/b/c' }, 1n), { ok: false, error: 'Incorrect base64 string' });
    assert.deepEqual(encodeRelayMessage({ payload: 'aGk=', contentTopic: '/a/1/b/c', meta: '%%' }, 1n), { ok: false, error: 'Incorrect base64 string' });
  });

  it("writes relay's JSON as nwaku: every field in its order, proof even when empty, meta only when present", () => {
    const bytes = proto_message.WakuMessage.encode({ payload: new Uint8Array([1, 2]), contentTopic: '/a/1/b/c', timestamp: TS, version: 0 });
    assert.equal(
      toJson(relayMessageJson(fieldsOfWire(decodeWakuMessage(bytes)))),
      `{"payload":"AQI=","contentTopic":"/a/1/b/c","version":0,"timestamp":${TS},"ephemeral":false,"proof":""}`,
    );
    const withMeta = proto_message.WakuMessage.encode({ payload: new Uint8Array([1]), contentTopic: 'c', timestamp: 5n, meta: new Uint8Array([9]), ephemeral: true });
    assert.equal(toJson(relayMessageJson(fieldsOfWire(decodeWakuMessage(withMeta)))), '{"payload":"AQ==","contentTopic":"c","version":0,"timestamp":5,"meta":"CQ==","ephemeral":true,"proof":""}');
  });

  it("writes store's JSON as nwaku: meta before version, proof only when present, the same from raw bytes and from a decoded answer", () => {
    const m = { payload: new Uint8Array([1, 2]), contentTopic: '/a/1/b/c', timestamp: TS, version: 1, meta: new Uint8Array([7]) };
    const bytes = proto_message.WakuMessage.encode(m);
    const expected = `{"payload":"AQI=","contentTopic":"/a/1/b/c","meta":"Bw==","version":1,"timestamp":${TS},"ephemeral":false}`;
    assert.equal(toJson(storeMessageJson(fieldsOfWire(decodeWakuMessage(bytes)))), expected);
    assert.equal(toJson(storeMessageJson(fieldsOfProto(proto_message.WakuMessage.decode(bytes)))), expected);
  });
});
