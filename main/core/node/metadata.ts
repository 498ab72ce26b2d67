/**
 * Waku metadata (66/WAKU2-METADATA): each side tells the other its cluster and
 * shards. js-waku picks store peers only among peers that announce the shards
 * it asks about, and js-waku's own metadata service announces none, so Keeper
 * runs its own that announces the shards it relays.
 */
import type { ComponentLogger, Logger, PeerId, Startable, TypedEventTarget, Libp2pEvents, IdentifyResult } from '@libp2p/interface';
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal';
import { proto_metadata } from '@waku/proto';
import { lpStream } from 'it-length-prefixed-stream';
import type { Uint8ArrayList } from 'uint8arraylist';
import { oneRequestHandler } from '../util/one-request-stream.ts';

export const METADATA_CODEC = '/vac/waku/metadata/1.0.0';
const MAX_METADATA_BYTES = 4096;
const TIMEOUT_MS = 10_000;

export interface PeerShards {
  clusterId: number | undefined;
  shards: number[];
}

export interface MetadataInit {
  clusterId: number;
  shards: number[];
}

export interface MetadataComponents {
  registrar: Registrar;
  connectionManager: ConnectionManager;
  events: TypedEventTarget<Libp2pEvents>;
  logger: ComponentLogger;
}

export class KeeperMetadata implements Startable {
  readonly clusterId: number;
  private announced: number[];
  /** What each peer told us, by peer id. */
  readonly peers = new Map<string, PeerShards>();
  private readonly components: MetadataComponents;
  private readonly log: Logger;

  constructor(components: MetadataComponents, init: MetadataInit) {
    this.components = components;
    this.clusterId = init.clusterId;
    this.announced = [...init.shards];
    this.log = components.logger.forComponent('keeper:metadata');
  }

  async start(): Promise<void> {
    // One request per stream, answered with our shards (no secret: a peer whose request we cannot read learns them too).
    const handler = oneRequestHandler({
      maxRequestBytes: MAX_METADATA_BYTES,
      idleTimeoutMs: TIMEOUT_MS,
      respond: (peer, frame) => {
        this.remember(peer, frame);
        return this.ours();
      },
      malformed: (peer, err) => {
        this.log('metadata request from %s unreadable: %s', peer, err);
        return this.ours();
      },
    });
    await this.components.registrar.handle(METADATA_CODEC, handler, { maxInboundStreams: 8 });
    this.components.events.addEventListener('peer:identify', this.onIdentify);
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect);
  }

  async stop(): Promise<void> {
    this.components.events.removeEventListener('peer:identify', this.onIdentify);
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect);
    await this.components.registrar.unhandle(METADATA_CODEC);
  }

  /** The shards this node announces. */
  get shards(): readonly number[] {
    return this.announced;
  }

  /** Announces `shards` from now on (to peers that ask after the change). */
  setShards(shards: readonly number[]): void {
    this.announced = [...new Set(shards)].sort((x, y) => x - y);
  }

  private ours(): Uint8Array {
    return proto_metadata.WakuMetadataResponse.encode({ clusterId: this.clusterId, shards: this.announced });
  }

  private remember(peer: string, bytes: Uint8Array | Uint8ArrayList): void {
    const r = proto_metadata.WakuMetadataRequest.decode(bytes);
    this.peers.set(peer, { clusterId: r.clusterId, shards: r.shards });
  }

  /** Asks a peer for its cluster and shards. */
  async query(peer: PeerId): Promise<PeerShards> {
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    const stream = await this.components.connectionManager.openConnection(peer, { signal }).then((c) =>
      c.newStream(METADATA_CODEC, { signal }),
    );
    try {
      const io = lpStream(stream, { maxDataLength: MAX_METADATA_BYTES });
      await io.write(proto_metadata.WakuMetadataRequest.encode({ clusterId: this.clusterId, shards: this.announced }), { signal });
      await stream.closeWrite({ signal });
      const frame = await io.read({ signal });
      const r = proto_metadata.WakuMetadataResponse.decode(frame);
      const shards = { clusterId: r.clusterId, shards: r.shards };
      this.peers.set(peer.toString(), shards);
      return shards;
    } finally {
      await stream.close({ signal }).catch(() => stream.abort(new Error('metadata close failed')));
    }
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail;
    if (!protocols.includes(METADATA_CODEC) || this.peers.has(peerId.toString())) return;
    this.query(peerId).catch((err: unknown) => this.log('metadata query to %p failed: %s', peerId, err));
  };

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.peers.delete(evt.detail.toString());
  };
}

export function keeperMetadata(init: MetadataInit): (components: MetadataComponents) => KeeperMetadata {
  return (components) => new KeeperMetadata(components, init);
}
