/**
 * The node's record and discv5 (@chainsafe/discv5, Node Discovery v5 on UDP,
 * as the Status fleet runs it on port 9000). The signed ENR is kept current
 * with the addresses the reach service gives out; discv5 serves it to anyone
 * who looks, walks the network with random lookups, and every Waku node it
 * finds (relay or store in its ENR, a TCP address to dial) is handed to libp2p
 * as a discovered peer: the Connector dials it, identify tells the history part
 * whether it serves Store v3, as for any other peer. Bootstrap: the
 * --discv5-bootstrap ENRs, else the fleet's ENRs from DNS discovery.
 */
import { Discv5 } from '@chainsafe/discv5';
import type { ENR } from '@chainsafe/enr';
import { ENR as ChainsafeENR } from '@chainsafe/enr';
import type { SignableENR } from '@chainsafe/enr';
import type { PeerDiscovery, PeerDiscoveryEvents, PeerInfo, PrivateKey } from '@libp2p/interface';
import { TypedEventEmitter, peerDiscoverySymbol } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { createSocket } from 'node:dgram';
import type { Discv5Status, KeeperEvent } from '../../contract/contract.ts';
import { ConfigError, errorMessage } from '../util/errors.ts';
import { applyEnrContent, createNodeEnr, decodeEnrRecord } from './enr.ts';
import type { EnrContent } from './enr.ts';

export interface Discv5Options {
  enabled: boolean;
  /** UDP port to bind; 0 picks a free one; undefined: 9000, or a free one when that is taken. */
  udpPort: number | undefined;
  /** The host to bind: 0.0.0.0, or 127.0.0.1 when the node listens on loopback only. */
  bindHost: string;
  bootstrap: readonly string[];
  /** When no bootstrap ENR is given: enrtree URLs whose ENRs bootstrap discv5 (DNS discovery). */
  enrTrees: readonly string[];
  /** Time between random lookups. */
  lookupIntervalMs: number;
  emit: (e: KeeperEvent) => void;
}

export const DEFAULT_UDP_PORT = 9000;

export class DiscoveryService {
  /** The node's signed record: what discv5 serves, and what the share card shows. */
  readonly enr: SignableENR;
  private readonly key: PrivateKey;
  private readonly opts: Discv5Options;
  private readonly bridge = new DiscoveredPeers();
  private discv5: Discv5 | undefined;
  private boundPort: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly found = new Map<string, { store: boolean }>();
  private running = false;

  constructor(key: PrivateKey, content: EnrContent, opts: Discv5Options) {
    this.key = key;
    this.opts = opts;
    this.enr = createNodeEnr(key, content);
  }

  /** The libp2p peer discovery module that hands on what discv5 finds. */
  get peerDiscovery(): () => PeerDiscovery {
    return () => this.bridge;
  }

  /** The record's text form. */
  get enrText(): string {
    return this.enr.encodeTxt();
  }

  /** Brings the record in line with the node's addresses; true when it changed (and was re-signed). */
  update(content: EnrContent): boolean {
    const c = this.boundPort !== null && content.udp === undefined ? { ...content, udp: this.boundPort } : content;
    return applyEnrContent(this.enr, c);
  }

  /** The UDP port discv5 is bound to (once started). */
  get udpPort(): number | null {
    return this.boundPort;
  }

  /** Binds the UDP port and starts looking; a port in use is a ConfigError naming --discv5-udp-port. */
  async start(): Promise<void> {
    if (!this.opts.enabled) return;
    this.running = true;
    let port = this.opts.udpPort ?? DEFAULT_UDP_PORT;
    if (port === 0) port = await freeUdpPort(this.opts.bindHost);
    try {
      await checkUdpPortFree(this.opts.bindHost, port);
    } catch (err) {
      // The default port gives way, as the default listen ports do; a port the person chose does not.
      if (this.opts.udpPort !== undefined) throw err;
      port = await freeUdpPort(this.opts.bindHost);
      this.opts.emit({ event: 'warning', message: `discv5: UDP ${DEFAULT_UDP_PORT} is taken, using ${port}` });
    }
    this.boundPort = port;
    if (this.enr.udp === undefined) this.enr.udp = port;
    const discv5 = Discv5.create({
      enr: this.enr,
      privateKey: this.key,
      bindAddrs: { ip4: multiaddr(`/ip4/${this.opts.bindHost}/udp/${port}`) },
      // The reach service owns the addresses: discv5's own votes would fight it.
      config: { enrUpdate: false },
    });
    const events = discv5 as unknown as NodeJS.EventEmitter;
    events.on('discovered', (enr: ENR) => this.onFound(enr));
    events.on('enrAdded', (enr: ENR) => this.onFound(enr));
    await discv5.start();
    this.discv5 = discv5;
    for (const text of this.opts.bootstrap) this.addEnr(text);
    if (this.opts.bootstrap.length === 0 && this.opts.enrTrees.length > 0) void this.bootstrapFromDns();
    this.lookupSoon(200);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    const d = this.discv5;
    this.discv5 = undefined;
    if (d !== undefined) await d.stop().catch(() => undefined);
  }

  status(): Discv5Status {
    const found = [...this.found.values()];
    return {
      enabled: this.opts.enabled,
      udpPort: this.boundPort,
      tableSize: this.discv5?.kadValues().length ?? 0,
      discovered: found.length,
      storeNodes: found.filter((f) => f.store).length,
    };
  }

  /** ENRs of Waku nodes discv5 found, as decoded records (for tests and the status). */
  knownEnrs(): string[] {
    return this.discv5?.kadValues().map((e) => e.encodeTxt()) ?? [];
  }

  private addEnr(text: string): void {
    try {
      this.discv5?.addEnr(text);
    } catch (err) {
      this.opts.emit({ event: 'warning', message: `--discv5-bootstrap: an ENR was not taken: ${errorMessage(err)}` });
    }
  }

  private async bootstrapFromDns(): Promise<void> {
    try {
      const { DnsNodeDiscovery } = await import('@waku/discovery');
      const dns = await DnsNodeDiscovery.dnsOverHttp();
      let n = 0;
      for await (const e of dns.getNextPeer([...this.opts.enrTrees])) {
        if (!this.running) return;
        const raw = e as unknown as Map<string, Uint8Array> & { seq: bigint; signature?: Uint8Array };
        if (raw.signature === undefined) continue;
        try {
          this.discv5?.addEnr(new ChainsafeENR(new Map(raw), raw.seq, raw.signature));
          n++;
        } catch {
          // a fleet record discv5 does not take
        }
        if (n >= 16) break;
      }
      if (n === 0) this.opts.emit({ event: 'warning', message: 'discv5: DNS discovery gave no ENR to bootstrap from' });
    } catch (err) {
      this.opts.emit({ event: 'warning', message: `discv5: DNS bootstrap failed: ${errorMessage(err)}` });
    }
  }

  private lookupSoon(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const d = this.discv5;
      if (d === undefined) return;
      d.findRandomNode()
        .then((enrs) => {
          for (const e of enrs) this.onFound(e);
        })
        .catch(() => undefined)
        .finally(() => this.lookupSoon(this.opts.lookupIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private onFound(enr: ENR): void {
    let record;
    try {
      record = decodeEnrRecord(enr);
    } catch {
      return;
    }
    if (record.peerId === this.enr.peerId.toString()) return;
    const caps = record.capabilities;
    if (caps === null || (!caps.relay && !caps.store)) return;
    const tcp = record.multiaddrs.filter((a) => /\/tcp\/\d+(\/ws)?\/p2p\//.test(a));
    if (tcp.length === 0) return;
    const first = !this.found.has(record.peerId);
    this.found.set(record.peerId, { store: caps.store });
    if (!first) return;
    const info: PeerInfo = { id: peerIdFromString(record.peerId), multiaddrs: tcp.map((a) => multiaddr(a).decapsulateCode(421)) };
    this.bridge.found(info);
  }
}

/** The libp2p side of discv5: a peer discovery module that emits what it is handed. */
class DiscoveredPeers extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery {
  readonly [Symbol.toStringTag] = 'keeper:discv5';

  get [peerDiscoverySymbol](): PeerDiscovery {
    return this;
  }

  found(info: PeerInfo): void {
    this.safeDispatchEvent('peer', { detail: info });
  }
}

async function checkUdpPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.close();
      reject(new ConfigError('--discv5-udp-port', `UDP port ${port} cannot be bound (${err.code === 'EADDRINUSE' ? 'in use by another program' : err.message})`));
    });
    s.bind(port, host, () => s.close(() => resolve()));
  });
}

async function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
