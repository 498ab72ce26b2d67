/**
 * What the REST API needs of the Keeper, and nothing more: the status
 * snapshot, relay (publish, the relayed topics, run-time subscriptions, the
 * accepted messages), the archive writer for what it publishes, and Store v3
 * answers — the archive's own through answerRequest, a peer's through
 * Keeper's Store v3 client. keeper.ts builds it with restBackend().
 */
import type { Multiaddr } from '@multiformats/multiaddr';
import type { KeeperStatus } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { ArchiveMessage } from '../message/message.ts';
import type { MessageRules } from '../message/validate.ts';
import type { KeeperLibp2p } from '../node/libp2p.ts';
import type { AcceptedListener, RelayIntake } from '../node/relay-intake.ts';
import type { RuntimeSettings } from '../settings/runtime-settings.ts';
import { answerRequest } from '../store/answer.ts';
import { storeQuery } from '../store/client.ts';
import type { ResponseFields, StoreQueryRequest, StoreQueryResponse } from '../store/codec.ts';

export interface RestBackend {
  /** The status snapshot: state, version, addresses, connected peers. */
  status(): Promise<KeeperStatus>;
  readonly clusterId: number;
  /** The network's message rules, which every published message must pass. */
  readonly rules: MessageRules;
  /** The pubsub topics relay serves now. */
  relayed(): readonly string[];
  /** Those relayed for this run only: added over REST. */
  runTopics(): readonly string[];
  /** Relays and archives these topics for this run (not saved). */
  subscribe(topics: readonly string[]): void;
  /** Stops relaying run-time topics among these; others stay. */
  unsubscribe(topics: readonly string[]): void;
  /** Whether the archive keeps a content topic. */
  keeps(contentTopic: string): boolean;
  /** Publishes an encoded WakuMessage on relay; 'duplicate' when relay has seen it already. */
  publish(pubsubTopic: string, data: Uint8Array): Promise<'published' | 'duplicate'>;
  /** Stores a message relay will not hand to its own validator: one this node published. */
  store(message: ArchiveMessage): void;
  /** Hears every message relay accepts; returns how to stop. */
  onRelayed(listener: AcceptedListener): () => void;
  /** The archive's answer to a Store v3 request, as the store server gives it. */
  answerLocal(request: StoreQueryRequest): ResponseFields;
  /** A peer's answer to a Store v3 request, through Keeper's own client; throws on transport failure. */
  queryPeer(peer: Multiaddr, request: StoreQueryRequest, timeoutMs: number): Promise<StoreQueryResponse>;
}

export interface RestParts {
  node: KeeperLibp2p;
  settings: RuntimeSettings;
  archive: Archive;
  writer: ArchiveWriter;
  intake: RelayIntake;
  status: () => Promise<KeeperStatus>;
}

export function restBackend(p: RestParts): RestBackend {
  const { node, settings } = p;
  const plan = settings.plan;
  return {
    status: p.status,
    clusterId: settings.config.clusterId,
    rules: settings.rules,
    relayed: () => plan.pubsubTopics,
    runTopics: () => plan.runTopics,
    subscribe: (topics) => void settings.addRunTopics(topics),
    unsubscribe: (topics) => void settings.removeRunTopics(topics),
    keeps: (contentTopic) => plan.keeps(contentTopic),
    publish: async (pubsubTopic, data) => {
      try {
        await node.services.relay.publish(pubsubTopic, data);
        return 'published';
      } catch (err) {
        if (err instanceof Error && err.message === 'PublishError.Duplicate') return 'duplicate';
        throw err;
      }
    },
    store: (message) => p.writer.push(message),
    onRelayed: (listener) => p.intake.onAccepted(listener),
    answerLocal: (request) => answerRequest(p.archive, request),
    queryPeer: (peer, request, timeoutMs) => storeQuery(node, peer, request, { timeoutMs, maxMessageBytes: settings.rules.maxMessageBytes }),
  };
}
