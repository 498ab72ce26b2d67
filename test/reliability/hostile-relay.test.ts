/**
 * Hostile relay traffic: malformed WakuMessages, oversized ones, timestamps far
 * in the future or past, bad topics, a topic the node does not relay. Refused,
 * never stored, counted in /api/status and /metrics; valid traffic still flows.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { proto_message } from '@waku/proto';
import { startKeeper } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';
import { TEST_CONTENT, TEST_PUBSUB } from '../helpers/messages.ts';
import { dial, startWakuClient } from '../helpers/waku-client.ts';
import type { WakuClient } from '../helpers/waku-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { report } from './scale.ts';

const MS = 1_000_000n;
const OTHER_TOPIC = '/waku/2/rs/16/999';

describe('hostile relay traffic', () => {
  let k: TestKeeper | undefined;
  let client: WakuClient | undefined;
  after(async () => {
    await client?.stop();
    await k?.dispose();
  });

  it('refuses and counts every bad message, stores none of them', async () => {
    k = await startKeeper();
    client = await startWakuClient({ pubsubTopics: [TEST_PUBSUB, OTHER_TOPIC] });
    await dial(client, k.tcpAddr);
    await waitFor('the node on the client relay topic', () => client!.relay.getSubscribers(TEST_PUBSUB).length > 0);
    const now = BigInt(Date.now()) * MS;
    const raw = (m: Partial<proto_message.WakuMessage>): Uint8Array => proto_message.WakuMessage.encode({ payload: new Uint8Array(10), contentTopic: TEST_CONTENT[0], timestamp: now, version: 0, ...m });
    // Valid ones first: refusals lower the sender's gossipsub score.
    for (let i = 0; i < 10; i++) await client.relay.publish(TEST_PUBSUB, raw({ payload: Buffer.from(`ok ${i}`), timestamp: now + BigInt(i) }));
    await waitFor('the valid messages stored', async () => (await k!.status()).archive.messages === 10);
    const bad: [string, Uint8Array][] = [
      ['undecodable', Uint8Array.from([0xff, 0xff, 0xff, 0xff])],
      // Over the Status fleet's 1 MiB cap (cluster 16).
      ['too-large', raw({ payload: new Uint8Array(1024 * 1024 + 1) })],
      ['meta-too-large', raw({ meta: new Uint8Array(65) })],
      ['clock-skew', raw({ timestamp: now + 3_600_000n * MS })],
      ['clock-skew', raw({ timestamp: now - 3_600_000n * MS })],
      ['no-timestamp', raw({ timestamp: undefined })],
      // Content topics are free strings (as nwaku takes them), but not empty.
      ['bad-content-topic', raw({ contentTopic: '' })],
    ];
    for (const [, bytes] of bad) await client.relay.publish(TEST_PUBSUB, bytes).catch(() => undefined);
    // Ephemeral: relayed, not stored, not refused. A topic the node does not relay: never seen.
    await client.relay.publish(TEST_PUBSUB, raw({ ephemeral: true, payload: Buffer.from('ephemeral') }));
    await client.relay.publish(OTHER_TOPIC, raw({ payload: Buffer.from('elsewhere') })).catch(() => undefined);
    const expected: Record<string, number> = {};
    for (const [reason] of bad) expected[reason] = (expected[reason] ?? 0) + 1;
    await waitFor('every bad message counted', async () => {
      const r = (await k!.status()).ingest.rejected;
      return Object.entries(expected).every(([reason, n]) => r[reason as keyof typeof r] === n);
    });
    const s = await k.status();
    assert.equal(s.archive.messages, 10, 'none of them stored');
    assert.equal(s.ingest.stored, 10);
    assert.deepEqual(s.topics.map((t) => t.pubsubTopic), [TEST_PUBSUB], 'the other topic is not relayed or kept');
    const token = readFileSync(join(k.dataDir, 'api-token'), 'utf8').trim();
    const metrics = await (await fetch(`${k.apiUrl}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
    for (const [reason, n] of Object.entries(expected)) {
      assert.match(metrics, new RegExp(`^keeper_messages_rejected_total\\{reason="${reason}"\\} ${n}$`, 'm'));
    }
    report(`hostile relay: ${bad.length} bad messages refused and counted by reason (${JSON.stringify(s.ingest.rejected)}), 10 valid stored`);
  });
});
