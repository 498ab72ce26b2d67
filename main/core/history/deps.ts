/** What gap filling and the consistency check work with: the archive, its writer, the peers, the topics. */
import type { KeeperEvent } from '../../contract/contract.ts';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { CoverageQuestion } from '../coverage/client.ts';
import type { RawStoreResponse, StoreQueryRequest } from '../store/codec.ts';
import type { Interval } from '../util/intervals.ts';
import type { MessageRules } from '../message/validate.ts';
import type { HistoryStore } from './history-store.ts';
import type { StorePeerRegistry } from './store-peers.ts';
import type { KeptPlan } from './scope.ts';

/** Asks `peerId` one Store v3 request; the answer's messages stay as their encoded bytes. */
export type PeerQueryFn = (peerId: string, request: Partial<StoreQueryRequest>, signal: AbortSignal) => Promise<RawStoreResponse>;

/**
 * Asks `peerId` what it holds of a range, over the coverage protocol: the
 * stretches it attests, checked. Throws AttestationRefused for an answer not
 * believed, UnsupportedProtocolError when the peer does not speak it, other
 * errors when it cannot answer.
 */
export type AttestFn = (peerId: string, q: CoverageQuestion, signal: AbortSignal) => Promise<Interval[]>;

/** The relayed topics and kept content topics, read afresh at every use (they change at run time). */
export interface HistoryTopics extends KeptPlan {
  readonly pubsubTopics: readonly string[];
  /** The kept content topics; empty keeps all. */
  readonly keptContentTopics: readonly string[];
  keeps(contentTopic: string): boolean;
}

export interface HistoryDeps {
  /** Read only: every message is stored through `writer`. */
  archive: Archive;
  writer: ArchiveWriter;
  history: HistoryStore;
  peers: StorePeerRegistry;
  query: PeerQueryFn;
  attest: AttestFn;
  topics: HistoryTopics;
  /** The network's rules every fetched message is checked by. */
  rules: MessageRules;
  emit: (e: KeeperEvent) => void;
}
