/**
 * nwaku's relay routes: subscriptions (POST and DELETE a JSON array of pubsub
 * topics), the messages received on a subscribed topic since the last call
 * (GET), and publishing on a topic (POST) or on the shard autosharding derives
 * from the content topic (POST /relay/v1/auto/messages).
 *
 * A subscription makes the node relay and archive the topic for this run (not
 * saved); the topics Keeper relays anyway are subscribed in the cache from the
 * start, as nwaku subscribes its configured shards. DELETE stops relaying only
 * what REST added; the cache forgets every topic it names.
 */
import { parseShardTopic } from '../message/topics.ts';
import { decodeWakuMessage } from '../message/wire.ts';
import type { RestBackend } from './backend.ts';
import { INT64_KEYS, encodeRelayMessage, fieldsOfWire, readRelayMessage, relayMessageJson } from './message-json.ts';
import type { EncodedMessage } from './message-json.ts';
import type { MessageCache } from './message-cache.ts';
import { autoShardTopic, publishMessage } from './publish.ts';
import { OK, json, jsonBody, text, undecodable } from './router.ts';
import type { Reply, RequestBody, Route } from './router.ts';

/** The clock for a message posted without a timestamp: ns, to the microsecond as nwaku's. */
export function restNowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** nwaku's rendering of a list of strings in its messages: @["a", "b"]. */
function nimList(items: readonly string[]): string {
  return `@[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** The body as a list of static-shard pubsub topics on this cluster, or nwaku's 400. */
function topicList(body: RequestBody | undefined, clusterId: number): { ok: true; topics: string[] } | { ok: false; reply: Reply } {
  const parsed = jsonBody(body);
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  if (!Array.isArray(v) || !v.every((t): t is string => typeof t === 'string')) {
    return { ok: false, reply: undecodable('a JSON array of pubsub topics was expected') };
  }
  const bad = v.filter((t) => parseShardTopic(t) === undefined);
  if (bad.length > 0) return { ok: false, reply: text(400, `Invalid pubsub topic(s): ${nimList(bad)}`) };
  const foreign = v.filter((t) => parseShardTopic(t)?.clusterId !== clusterId);
  if (foreign.length > 0) return { ok: false, reply: text(400, `Invalid pubsub topic(s): ${nimList(foreign)}: this node serves cluster ${clusterId}`) };
  return { ok: true, topics: [...new Set(v)] };
}

/** The posted message, encoded, or nwaku's 400. */
function postedMessage(body: RequestBody | undefined): { ok: true; message: EncodedMessage } | { ok: false; reply: Reply } {
  const parsed = jsonBody(body, INT64_KEYS);
  if (!parsed.ok) return parsed;
  const read = readRelayMessage(parsed.value);
  if (!read.ok) return { ok: false, reply: undecodable(read.error) };
  const encoded = encodeRelayMessage(read.value, restNowNs());
  if (!encoded.ok) return { ok: false, reply: text(400, encoded.error) };
  return { ok: true, message: encoded.value };
}

export function relayRoutes(b: RestBackend, cache: MessageCache): Route[] {
  return [
    {
      method: 'POST',
      path: '/relay/v1/subscriptions',
      handler: ({ body }) => {
        const list = topicList(body, b.clusterId);
        if (!list.ok) return list.reply;
        const relayed = new Set(b.relayed());
        const fresh = list.topics.filter((t) => !relayed.has(t));
        if (fresh.length > 0) b.subscribe(fresh);
        for (const t of list.topics) cache.subscribe(t);
        return OK();
      },
    },
    {
      method: 'DELETE',
      path: '/relay/v1/subscriptions',
      handler: ({ body }) => {
        const list = topicList(body, b.clusterId);
        if (!list.ok) return list.reply;
        const added = new Set(b.runTopics());
        const ours = list.topics.filter((t) => added.has(t));
        for (const t of list.topics) cache.unsubscribe(t);
        if (ours.length > 0) b.unsubscribe(ours);
        return OK();
      },
    },
    {
      method: 'GET',
      path: '/relay/v1/messages/{pubsubTopic}',
      handler: ({ params }) => {
        const topic = params.pubsubTopic ?? '';
        const held = cache.take(topic);
        if (held === undefined) return text(404, `Not subscribed to topic: ${topic}`);
        return json(200, held.map((data) => relayMessageJson(fieldsOfWire(decodeWakuMessage(data)))));
      },
    },
    {
      method: 'POST',
      path: '/relay/v1/messages/{pubsubTopic}',
      handler: ({ params, body }) => {
        const topic = params.pubsubTopic ?? '';
        // nwaku publishes only on a topic it relays: elsewhere there may be no peer to take it.
        if (!b.relayed().includes(topic)) return text(400, `Failed to publish: Node not subscribed to topic: ${topic}`);
        const posted = postedMessage(body);
        if (!posted.ok) return posted.reply;
        return publishMessage(b, cache, topic, posted.message, restNowNs());
      },
    },
    {
      method: 'POST',
      path: '/relay/v1/auto/messages',
      handler: ({ body }) => {
        const posted = postedMessage(body);
        if (!posted.ok) return posted.reply;
        const shard = autoShardTopic(posted.message.contentTopic, b.clusterId);
        if (!shard.ok) return text(400, `Failed to publish. Autosharding error: ${shard.error}`);
        return publishMessage(b, cache, shard.topic, posted.message, restNowNs());
      },
    },
    ...['/relay/v1/subscriptions', '/relay/v1/messages/{pubsubTopic}', '/relay/v1/auto/messages'].map((path) => ({ method: 'OPTIONS', path, handler: OK })),
  ];
}
