/**
 * The archive adapter answers exactly what the in-memory reference answers,
 * per pubsub topic and per content-topic set, across its chunk edges, with
 * messages sharing timestamps and sitting on range bounds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { ArchiveSyncIndex } from '../../main/core/sync/archive-storage.ts';
import { boundAt, hashKey } from '../../main/core/sync/ids.ts';
import type { SyncId } from '../../main/core/sync/ids.ts';
import type { Scope } from '../../main/core/sync/session.ts';
import { partitionTimes } from '../../main/core/sync/storage.ts';
import { archiveMessage, TEST_CONTENT } from '../helpers/messages.ts';
import { MemoryStorage, rng } from '../helpers/sync-memory-storage.ts';

const T0 = 1_700_000_000_000_000_000n;
const TOPICS = ['/waku/2/rs/16/32', '/waku/2/rs/16/64'];

function messages(n: number, seed: number): ArchiveMessage[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) =>
    archiveMessage({
      pubsubTopic: TOPICS[i % 5 === 0 ? 1 : 0],
      contentTopic: TEST_CONTENT[Math.floor(r() * TEST_CONTENT.length)],
      // Coarse times: many messages share one.
      timestamp: T0 + BigInt(Math.floor(r() * 400)) * 1000n,
      payload: new TextEncoder().encode(`p${seed}/${i}`),
    }),
  );
}

function reference(msgs: readonly ArchiveMessage[], scope: Scope): MemoryStorage {
  const keep = msgs.filter((m) => (scope.pubsubTopics.length === 0 || scope.pubsubTopics.includes(m.pubsubTopic)) && (scope.contentTopics.length === 0 || scope.contentTopics.includes(m.contentTopic)));
  return new MemoryStorage(keep.map((m) => ({ time: m.timestamp, hash: m.hash })));
}

const keys = (ids: readonly SyncId[]): string[] => ids.map((i) => `${i.time}/${hashKey(i.hash)}`);

describe('sync archive storage', () => {
  const msgs = messages(3000, 1);
  const archive = Archive.open(':memory:');
  archive.insert(msgs);
  const index = new ArchiveSyncIndex(archive, { chunkRows: 97 });
  const scopes: Scope[] = [
    { pubsubTopics: [TOPICS[0] as string], contentTopics: [] },
    { pubsubTopics: [], contentTopics: [] },
    { pubsubTopics: [TOPICS[0] as string], contentTopics: [TEST_CONTENT[0] as string, TEST_CONTENT[2] as string] },
    { pubsubTopics: TOPICS, contentTopics: [TEST_CONTENT[1] as string, 'never seen'] },
    { pubsubTopics: ['never seen'], contentTopics: [] },
  ];

  for (const scope of scopes) {
    it(`summaries, items and lookups match the reference: ${JSON.stringify(scope)}`, async () => {
      const ours = index.storage(scope);
      const ref = reference(msgs, scope);
      const r = rng(9);
      for (let k = 0; k < 40; k++) {
        const a = T0 + BigInt(Math.floor(r() * 420)) * 1000n - 1000n;
        const b = a + BigInt(1 + Math.floor(r() * 300_000));
        // Bounds on message times (zero hash), and a range's upper bound with a hash: exact inclusive ends.
        const bounds = (partitionTimes(a, b, 1 + Math.floor(r() * 8)) ?? [a, b]).map(boundAt);
        if (k % 5 === 0) bounds[bounds.length - 1] = { time: b, hash: new Uint8Array(32).fill(0x80) };
        const got = await ours.summarize(bounds);
        const want = await ref.summarize(bounds);
        assert.deepEqual(got, want, `bounds ${bounds.map((x) => x.time - T0).join(',')}`);
        const lower = bounds[0] as SyncId;
        const upper = bounds[bounds.length - 1] as SyncId;
        const limit = 1 + Math.floor(r() * 50);
        const first = await ours.items(lower, upper, limit);
        assert.deepEqual(keys(first), keys(await ref.items(lower, upper, limit)));
        const after = first[first.length - 1];
        if (after !== undefined) assert.deepEqual(keys(await ours.items(lower, upper, limit, after)), keys(await ref.items(lower, upper, limit, after)));
      }
      for (const m of msgs.slice(0, 200)) {
        const f = await ours.find(m.hash);
        const g = await ref.find(m.hash);
        assert.equal(f === undefined, g === undefined);
        if (f !== undefined) assert.equal(f.time, m.timestamp);
      }
    });
  }

  it('a message on a bound (only an all-zero hash can be) counts in both parts and once in the whole, as nwaku counts it', async () => {
    const a = Archive.open(':memory:');
    const onBound = { ...archiveMessage({ timestamp: T0 + 5000n }), hash: new Uint8Array(32) };
    const others = [archiveMessage({ timestamp: T0 + 1000n }), archiveMessage({ timestamp: T0 + 9000n })];
    a.insert([onBound, ...others]);
    const got = await new ArchiveSyncIndex(a).storage({ pubsubTopics: [], contentTopics: [] }).summarize([boundAt(T0), boundAt(T0 + 5000n), boundAt(T0 + 10_000n)]);
    const ref = new MemoryStorage([onBound, ...others].map((m) => ({ time: m.timestamp, hash: m.hash })));
    assert.deepEqual(got, await ref.summarize([boundAt(T0), boundAt(T0 + 5000n), boundAt(T0 + 10_000n)]));
    assert.deepEqual(got.parts.map((p) => p.count), [2, 2]);
    assert.equal(got.total.count, 3);
    a.close();
  });

  it('reads stored messages back for pushing, with their pubsub topic', () => {
    const m = msgs[5] as ArchiveMessage;
    const got = index.message(m.hash);
    assert.equal(got?.pubsubTopic, m.pubsubTopic);
    assert.deepEqual(got?.message, m.message);
    assert.equal(index.message(new Uint8Array(32)), undefined);
  });
});
