/**
 * The libp2p node a Keeper runs: TCP and WebSocket transports, noise, yamux and
 * mplex, identify, ping, Waku metadata and Waku Relay. Discovery is optional.
 */
import { noise } from '@chainsafe/libp2p-noise';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import type { Libp2p, PeerDiscovery, PeerDiscoveryEvents, PrivateKey, Startable } from '@libp2p/interface';
import { TypedEventEmitter, peerDiscoverySymbol } from '@libp2p/interface';
import { mplex } from '@libp2p/mplex';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { all as anyWebSocketAddress } from '@libp2p/websockets/filters';
import { yamux } from '@chainsafe/libp2p-yamux';
import { wakuDnsDiscovery, wakuPeerExchangeDiscovery } from '@waku/discovery';
import { createLibp2p } from 'libp2p';
import { keeperMetadata } from './metadata.ts';
import type { KeeperMetadata } from './metadata.ts';
import { wakuRelay } from './relay.ts';
import { USER_AGENT } from '../util/version.ts';
import { STATUS_ENRTREE } from '../communities/status-network.ts';


export type KeeperServices = {
  identify: Identify;
  ping: Ping;
  metadata: KeeperMetadata;
  relay: GossipSub;
};

export type KeeperLibp2p = Libp2p<KeeperServices>;

export interface Libp2pOptions {
  privateKey: PrivateKey;
  listen: string[];
  clusterId: number;
  shards: number[];
  /** DNS (enrtree) discovery and peer exchange. */
  discovery: boolean;
  /** The network's message cap: relay's inbound RPC limit is made to fit a few such messages. */
  maxMessageBytes: number;
  enrTrees?: string[];
  onDiscoveryError?: (err: unknown) => void;
  /** Addresses announced beside the listen addresses (--announce, --dns4-domain). */
  appendAnnounce?: string[];
  /** More peer discovery modules (discv5's bridge). */
  extraDiscovery?: (() => PeerDiscovery)[];
}

export async function createKeeperLibp2p(opts: Libp2pOptions): Promise<KeeperLibp2p> {
  // libp2p hands each module its components; the Waku ones want more than they are typed with.
  const peerDiscovery: ((components: any) => PeerDiscovery)[] = opts.discovery
    ? [
        inBackground(wakuDnsDiscovery(opts.enrTrees ?? [STATUS_ENRTREE]), opts.onDiscoveryError),
        wakuPeerExchangeDiscovery(),
      ]
    : [];
  peerDiscovery.push(...(opts.extraDiscovery ?? []));
  return createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen, appendAnnounce: opts.appendAnnounce ?? [] },
    transports: [tcp(), webSockets({ filter: anyWebSocketAddress })],
    connectionEncrypters: [noise()],
    // js-waku speaks mplex only; nwaku both. A client that pages fast through
    // mplex trips its default disconnect threshold, so it is raised.
    streamMuxers: [yamux(), mplex({ disconnectThreshold: 50, maxInboundStreams: 1024 })],
    // A store node is dialled by many clients, some from one address (a NAT, a
    // server with several apps): libp2p's default of 5 new inbound connections
    // per second per host turned them away under load.
    connectionManager: {
      maxConnections: 150,
      inboundConnectionThreshold: 50,
      maxIncomingPendingConnections: 50,
      // Static peers are redialled by the Connector, with its backoff. libp2p 2.8's own reconnect
      // queue has no default interval (a NaN timeout: five redials 1 ms apart), so it is left one try.
      reconnectRetries: 0,
      reconnectRetryInterval: 1000,
      reconnectBackoffFactor: 2,
    },
    peerDiscovery,
    services: {
      identify: identify({ agentVersion: USER_AGENT }),
      ping: ping(),
      metadata: keeperMetadata({ clusterId: opts.clusterId, shards: opts.shards }),
      relay: wakuRelay({}, opts.maxMessageBytes),
    },
  });
}

/**
 * Runs a discovery module's start in the background: DNS discovery awaits its
 * first lookup in start(), and offline that must neither delay nor fail the node.
 */
function inBackground<C>(
  factory: (components: C) => PeerDiscovery & Startable,
  onError: ((err: unknown) => void) | undefined,
): (components: C) => PeerDiscovery & Startable {
  return (components) => new BackgroundDiscovery(factory(components), onError);
}

class BackgroundDiscovery extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery, Startable {
  private readonly inner: PeerDiscovery & Startable;
  private readonly onError: ((err: unknown) => void) | undefined;

  constructor(inner: PeerDiscovery & Startable, onError: ((err: unknown) => void) | undefined) {
    super();
    this.inner = inner;
    this.onError = onError;
    inner.addEventListener('peer', (evt) => this.safeDispatchEvent('peer', { detail: evt.detail }));
  }

  get [peerDiscoverySymbol](): PeerDiscovery {
    return this;
  }

  readonly [Symbol.toStringTag] = 'keeper:background-discovery';

  start(): void {
    Promise.resolve()
      .then(() => this.inner.start())
      .catch((err: unknown) => this.onError?.(err));
  }

  async stop(): Promise<void> {
    await this.inner.stop();
  }
}
