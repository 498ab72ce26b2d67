/**
 * The node's presence on the network, as one part for the Keeper to wire:
 * reachability (mapping, dial-back checks, announced addresses), the signed ENR
 * and discv5, kept in step — whenever the addresses to give out change, the
 * record is rewritten — and the share card made from them.
 */
import type { PrivateKey } from '@libp2p/interface';
import type { PeerDiscovery } from '@libp2p/interface';
import type { KeeperEvent, Reachability, ReachabilityStatus, ShareInfo } from '../../contract/contract.ts';
import { DiscoveryService } from '../discovery/discv5-service.ts';
import { KEEPER_CAPABILITIES } from '../discovery/enr.ts';
import type { EnrContent } from '../discovery/enr.ts';
import { buildShare } from '../discovery/share.ts';
import type { KeeperLibp2p } from '../node/libp2p.ts';
import { STATUS_ENRTREE } from '../communities/status-network.ts';
import type { KeeperConfig } from '../settings/config.ts';
import { enrAddresses } from './address-book.ts';
import { ReachService } from './reach-service.ts';
import { AutonatServer } from './autonat-server.ts';
import type { NatMode } from './nat-options.ts';

export interface PresenceOptions {
  key: PrivateKey;
  listen: readonly string[];
  nat: NatMode;
  announce: readonly string[];
  dns4Domain: string | undefined;
  clusterId: number;
  /** The relayed shards, as they are now (communities change them). */
  shards: () => number[];
  discv5: { enabled: boolean; udpPort: number | undefined; bootstrap: readonly string[]; enrTrees: readonly string[]; lookupIntervalMs: number };
  reachCheckIntervalMs: number;
  netWatchIntervalMs: number;
  emit: (e: KeeperEvent) => void;
}

export class Presence {
  private readonly opts: PresenceOptions;
  private readonly discovery: DiscoveryService;
  private reach: ReachService | undefined;
  private autonat: AutonatServer | undefined;
  private peerId = '';

  /** The presence a Keeper's configuration asks for. */
  static forConfig(c: Readonly<KeeperConfig>, key: PrivateKey, listen: readonly string[], shards: () => number[], emit: (e: KeeperEvent) => void): Presence {
    return new Presence({
      key,
      listen,
      nat: c.nat,
      announce: c.announce,
      dns4Domain: c.dns4Domain,
      clusterId: c.clusterId,
      shards,
      discv5: {
        enabled: c.discovery || c.discv5Bootstrap.length > 0,
        udpPort: c.discv5UdpPort,
        bootstrap: c.discv5Bootstrap,
        enrTrees: c.discovery ? [STATUS_ENRTREE] : [],
        lookupIntervalMs: c.discv5LookupIntervalMs,
      },
      reachCheckIntervalMs: c.reachCheckIntervalMs,
      netWatchIntervalMs: c.netWatchIntervalMs,
      emit,
    });
  }

  constructor(opts: PresenceOptions) {
    this.opts = opts;
    const loopbackOnly = opts.listen.length > 0 && opts.listen.every((a) => /^\/ip4\/127\.|^\/ip6\/::1\//.test(a));
    this.discovery = new DiscoveryService(opts.key, this.content([]), {
      ...opts.discv5,
      // A node that listens on loopback only keeps discv5 there too.
      bindHost: loopbackOnly ? '127.0.0.1' : '0.0.0.0',
      emit: opts.emit,
    });
  }

  /** For libp2p's peer discovery: the peers discv5 finds. */
  get peerDiscovery(): () => PeerDiscovery {
    return this.discovery.peerDiscovery;
  }

  /** The addresses libp2p should announce beside its own: --announce, and --dns4-domain with the listen ports when they are fixed. */
  appendAnnounce(): string[] {
    const { announce, dns4Domain, listen } = this.opts;
    const dns = dns4Domain === undefined ? [] : listen.flatMap((l) => {
      const m = /^\/ip4\/[^/]+\/tcp\/([1-9]\d*)(\/ws)?$/.exec(l);
      return m ? [`/dns4/${dns4Domain}/tcp/${m[1]}${m[2] ?? ''}`] : [];
    });
    return [...new Set([...announce, ...dns])];
  }

  /** Starts discv5 (a UDP port in use throws, naming --discv5-udp-port), then mapping and checking. */
  async start(node: KeeperLibp2p): Promise<void> {
    this.peerId = node.peerId.toString();
    this.autonat = new AutonatServer(node);
    await this.autonat.start();
    await this.discovery.start();
    const udp = this.opts.discv5.enabled ? (this.discovery.udpPort ?? undefined) : undefined;
    const reach = new ReachService(node, {
      nat: this.opts.nat,
      announce: this.opts.announce,
      dns4Domain: this.opts.dns4Domain,
      udpPort: udp,
      checkIntervalMs: this.opts.reachCheckIntervalMs,
      netWatchIntervalMs: this.opts.netWatchIntervalMs,
      emit: this.opts.emit,
    });
    this.reach = reach;
    reach.onChange(() => this.refreshRecord());
    reach.start();
    this.refreshRecord();
  }

  async stop(): Promise<void> {
    await this.autonat?.stop().catch(() => undefined);
    await this.reach?.stop();
    await this.discovery.stop();
  }

  get enr(): string {
    return this.discovery.enrText;
  }

  get reachability(): Reachability {
    return this.reach?.status().reachability ?? 'unknown';
  }

  status(): { reach: ReachabilityStatus; share: ShareInfo } {
    this.refreshRecord();
    const reach = this.reach?.status() ?? {
      reachability: 'unknown' as const,
      reason: 'starting',
      addresses: [],
      mapping: { mode: this.opts.nat.kind, method: null, state: 'off' as const, gateway: null, externalIp: null, ports: [], error: null, renewedAtMs: null },
      lastCheckMs: null,
      advice: null,
    };
    const addrs = this.reach?.shareAddresses() ?? { addrs: [], public: false };
    return {
      reach: { ...reach, discv5: this.discovery.status() },
      share: buildShare({ peerId: this.peerId, addrs: addrs.addrs, reachable: reach.reachability === 'public', enr: this.enr, clusterId: this.opts.clusterId }),
    };
  }

  /** The share card's addresses, with /p2p/. */
  shareMultiaddrs(): string[] {
    return (this.reach?.shareAddresses().addrs ?? []).map((a) => `${a}/p2p/${this.peerId}`);
  }

  private refreshRecord(): void {
    const addrs = this.reach?.shareAddresses().addrs ?? [];
    this.discovery.update(this.content(addrs));
  }

  private content(addrs: readonly string[]): EnrContent {
    const a = enrAddresses(addrs);
    return {
      ...a,
      udp: this.reach?.externalUdpPort() ?? (this.discovery?.udpPort ?? undefined),
      capabilities: KEEPER_CAPABILITIES,
      shards: { clusterId: this.opts.clusterId, shards: this.opts.shards() },
    };
  }
}
