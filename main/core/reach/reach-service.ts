/**
 * Whether strangers can dial this Keeper, and at which addresses. It maps the
 * node's ports on the router (--nat), collects the other candidates (the
 * router's answer, identify's observed address, --announce, --dns4-domain,
 * extip, public interface addresses), has connected AutoNAT peers dial them
 * back, and tells libp2p's address manager what was mapped and confirmed so
 * identify announces it. Everything is looked at again when the network
 * changes (interfaces polled) and every check interval.
 */
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface';
import { isPrivate } from '@libp2p/utils/multiaddr/is-private';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { networkInterfaces } from 'node:os';
import type { KeeperEvent, ReachabilityStatus } from '../../contract/contract.ts';
import type { KeeperLibp2p } from '../node/libp2p.ts';
import { errorMessage } from '../util/errors.ts';
import { AddressBook, addressesOn } from './address-book.ts';
import type { ListenPort } from './address-book.ts';
import { AUTONAT_CODEC, askDialBack } from './dial-back.ts';
import { natMaps } from './nat-options.ts';
import type { NatMode } from './nat-options.ts';
import { PortMapper, defaultGateway, lanAddressFor } from './port-mapper.ts';
import type { PortRequest } from './port-mapper.ts';

export interface ReachOptions {
  nat: NatMode;
  announce: readonly string[];
  dns4Domain: string | undefined;
  /** discv5's UDP port, mapped beside the TCP ports; undefined when discv5 is off. */
  udpPort: number | undefined;
  /** How often the addresses are dial-back checked again. */
  checkIntervalMs: number;
  /** How often the network interfaces are looked at for a change. */
  netWatchIntervalMs: number;
  /** Lease and timeouts of the router's port mappings. */
  mappingLeaseMs?: number;
  mappingTimeoutMs?: number;
  dialBackTimeoutMs?: number;
  emit: (e: KeeperEvent) => void;
}

interface AddressManagerView {
  addPublicAddressMapping(internalIp: string, internalPort: number, externalIp: string, externalPort?: number, protocol?: 'tcp' | 'udp'): void;
  removePublicAddressMapping(internalIp: string, internalPort: number, externalIp: string, externalPort?: number, protocol?: 'tcp' | 'udp'): void;
  confirmObservedAddr(addr: Multiaddr): void;
  removeObservedAddr(addr: Multiaddr): void;
}

interface NodeInternals {
  components: { transportManager: { getAddrs(): Multiaddr[] }; addressManager: AddressManagerView };
}

const ipOf = (addr: string): string | undefined => /^\/ip[46]\/([^/]+)\//.exec(addr)?.[1];

export class ReachService {
  private readonly node: KeeperLibp2p;
  private readonly opts: ReachOptions;
  private readonly book = new AddressBook();
  private readonly mapper: PortMapper;
  /** What each peer says our address is (identify's observed address), by peer id. */
  private readonly observed = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private listenPorts: ListenPort[] = [];
  private netSignature = '';
  private checkTimer: NodeJS.Timeout | undefined;
  private netTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private again = false;
  /** Rounds in a row that left an address unchecked (no helper yet, a dial-back that timed out). */
  private unsettledRounds = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastVerdict = '';
  private running = false;
  private mappedInLibp2p: { internalIp: string; internalPort: number; externalIp: string; externalPort: number }[] = [];

  constructor(node: KeeperLibp2p, opts: ReachOptions) {
    this.node = node;
    this.opts = opts;
    this.mapper = new PortMapper({
      mode: opts.nat,
      leaseMs: opts.mappingLeaseMs,
      timeoutMs: opts.mappingTimeoutMs,
      onChange: () => this.onMapping(),
      onProblem: (message) => opts.emit({ event: 'warning', message: `${message}; the node runs on without it` }),
    });
  }

  /** libp2p's transport and address managers: not in its public typings, there in every node. */
  private get parts(): NodeInternals['components'] {
    return (this.node as unknown as NodeInternals).components;
  }

  /** Called when the announced addresses or the verdict change. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Reads the listen ports and starts mapping and checking. Resolves at once: mapping runs in the background. */
  start(): void {
    this.running = true;
    this.listenPorts = this.readListenPorts();
    this.netSignature = interfaceSignature();
    const { nat, announce, dns4Domain } = this.opts;
    this.book.setOrigin('announce', announce);
    if (dns4Domain !== undefined) this.book.setOrigin('dns4', addressesOn(dns4Domain, this.listenPorts).map((a) => a.replace(/^\/ip4\//, '/dns4/')));
    if (nat.kind === 'extip') this.book.setOrigin('extip', addressesOn(nat.ip, this.listenPorts));
    this.book.setOrigin('listen', this.publicListenAddresses());
    this.node.addEventListener('peer:identify', this.onIdentify);
    if (natMaps(nat)) void this.mapper.map(this.portRequests());
    this.checkTimer = setInterval(() => this.checkSoon(0), this.opts.checkIntervalMs);
    this.checkTimer.unref();
    this.netTimer = setInterval(() => this.watchNetwork(), this.opts.netWatchIntervalMs);
    this.netTimer.unref();
    this.changed();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.checkTimer);
    clearInterval(this.netTimer);
    clearTimeout(this.soonTimer);
    clearTimeout(this.retryTimer);
    this.node.removeEventListener('peer:identify', this.onIdentify);
    await this.checking?.catch(() => undefined);
    await this.mapper.stop();
  }

  /** The addresses to give out, best first, without /p2p/; the node's own listen addresses when none is public. */
  shareAddresses(): { addrs: string[]; public: boolean } {
    const announced = this.book.announced();
    if (announced.length > 0) return { addrs: announced, public: true };
    const own = this.parts.transportManager
      .getAddrs()
      .map((a) => a.toString())
      .filter((a) => /^\/ip[46]\//.test(a));
    const loopback = (a: string): boolean => /^\/ip4\/127\.|^\/ip6\/::1\//.test(a);
    return { addrs: [...own.filter((a) => !loopback(a)), ...own.filter(loopback)], public: false };
  }

  /** The UDP port discv5 is reachable at from outside: the mapped one when mapped. */
  externalUdpPort(): number | undefined {
    const udp = this.mapper.ports.find((p) => p.protocol === 'udp');
    return udp?.externalPort ?? this.opts.udpPort;
  }

  status(): Omit<ReachabilityStatus, 'discv5'> {
    const verdict = this.book.verdict(this.seenFromOutside());
    return {
      reachability: verdict.reachability,
      reason: verdict.reason,
      addresses: this.book.list(),
      mapping: { ...this.mapper.status, ports: [...this.mapper.status.ports] },
      lastCheckMs: this.book.lastCheckMs(),
      advice: verdict.reachability === 'public' ? null : this.advice(),
    };
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, observedAddr, protocols } = evt.detail;
    if (observedAddr !== undefined) this.observe(peerId, observedAddr);
    if (protocols.includes(AUTONAT_CODEC)) this.checkSoon(200);
  };

  private observe(peer: PeerId, addr: Multiaddr): void {
    const ip = ipOf(addr.toString());
    if (ip === undefined) return;
    this.observed.set(peer.toString(), ip);
    const outside = [...new Set(this.observed.values())].filter((o) => !this.isOwnIp(o) && !isPrivate(multiaddr(`/ip4/${o}/tcp/1`)) && !o.includes(':'));
    const tcpPorts = this.listenPorts.filter((p) => p.transport === 'tcp');
    if (this.book.setOrigin('observed', outside.flatMap((o) => addressesOn(o, tcpPorts)))) this.changed();
  }

  private isOwnIp(ip: string): boolean {
    return Object.values(networkInterfaces())
      .flat()
      .some((i) => i?.address === ip);
  }

  private seenFromOutside(): boolean {
    return [...this.observed.values()].some((ip) => !this.isOwnIp(ip) && !ip.startsWith('127.'));
  }

  /** Runs the dial-back checks soon, once, however many reasons there are. */
  private checkSoon(delayMs: number): void {
    if (!this.running || this.soonTimer !== undefined) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      if (this.checking !== undefined) {
        // A reason arrived while checking (a mapping, a new peer): check once more after.
        this.again = true;
        return;
      }
      this.checking = this.runChecks().finally(() => {
        this.checking = undefined;
        if (this.again) {
          this.again = false;
          this.checkSoon(0);
        }
      });
    }, delayMs);
    this.soonTimer.unref();
  }

  private async runChecks(): Promise<void> {
    const self = this.node.peerId;
    const helpers = await this.autonatPeers();
    let changed = false;
    for (const addr of this.book.checkable()) {
      const ip = ipOf(addr);
      // A stranger's AutoNAT dials only the IP it sees us at: ask one that sees us there.
      const helper = helpers.find((h) => this.observed.get(h.peer) === ip);
      if (helper === undefined || !this.running) continue;
      try {
        const answer = await askDialBack(helper.connection, self, multiaddr(addr), this.opts.dialBackTimeoutMs ?? 20_000);
        if (answer.status !== 'ok' && answer.status !== 'dial-error') continue;
        const confirmed = answer.status === 'ok';
        changed = this.book.record(addr, confirmed, helper.peer, Date.now()) || changed;
        this.tellLibp2p(addr, confirmed);
      } catch {
        // the helper went away or never answered: no evidence either way
      }
    }
    if (changed) this.changed();
    this.retryUnsettled();
  }

  /**
   * An address no helper could check this round (none sees us at its IP yet, or a dial-back
   * timed out on a busy link) is tried again soon, backing off 5 s, 10 s, 20 s … up to the
   * regular interval, instead of waiting the whole interval with no verdict.
   */
  private retryUnsettled(): void {
    clearTimeout(this.retryTimer);
    const unsettled = this.book.list().some((a) => a.check === 'unchecked' && /^\/ip[46]\//.test(a.multiaddr));
    if (!this.running || !unsettled) {
      this.unsettledRounds = 0;
      return;
    }
    const delayMs = Math.min(this.opts.checkIntervalMs, 5_000 * 2 ** Math.min(this.unsettledRounds, 10));
    this.unsettledRounds++;
    this.retryTimer = setTimeout(() => this.checkSoon(0), delayMs);
    this.retryTimer.unref();
  }

  private async autonatPeers(): Promise<{ peer: string; connection: Connection }[]> {
    const out: { peer: string; connection: Connection }[] = [];
    for (const c of this.node.getConnections()) {
      if (c.status !== 'open' || out.some((o) => o.peer === c.remotePeer.toString())) continue;
      const p = await this.node.peerStore.get(c.remotePeer).catch(() => undefined);
      if (p?.protocols.includes(AUTONAT_CODEC)) out.push({ peer: c.remotePeer.toString(), connection: c });
    }
    return out;
  }

  private tellLibp2p(addr: string, confirmed: boolean): void {
    const am = this.parts.addressManager;
    try {
      if (confirmed) am.confirmObservedAddr(multiaddr(addr));
      else am.removeObservedAddr(multiaddr(addr));
    } catch {
      // an address libp2p does not track
    }
  }

  private onMapping(): void {
    const method = this.mapper.status.method;
    const ports = this.mapper.ports;
    const am = this.parts.addressManager;
    for (const m of this.mappedInLibp2p) am.removePublicAddressMapping(m.internalIp, m.internalPort, m.externalIp, m.externalPort, 'tcp');
    this.mappedInLibp2p = [];
    const addrs: string[] = [];
    for (const p of ports) {
      if (p.protocol !== 'tcp') continue;
      const ws = this.listenPorts.some((l) => l.port === p.port && l.transport === 'ws');
      addrs.push(`/ip4/${p.externalIp}/tcp/${p.externalPort}${ws ? '/ws' : ''}`);
      am.addPublicAddressMapping(p.internalHost, p.port, p.externalIp, p.externalPort, 'tcp');
      this.mappedInLibp2p.push({ internalIp: p.internalHost, internalPort: p.port, externalIp: p.externalIp, externalPort: p.externalPort });
    }
    const a = this.book.setOrigin('upnp', method === 'upnp' ? addrs : []);
    const b = this.book.setOrigin('pmp', method === 'pmp' ? addrs : []);
    if (a || b) {
      this.changed();
      this.checkSoon(200);
    } else this.notify();
  }

  private watchNetwork(): void {
    const now = interfaceSignature();
    if (now === this.netSignature) return;
    this.netSignature = now;
    this.opts.emit({ event: 'warning', message: 'the network changed: mapping ports and checking reachability again' });
    this.observed.clear();
    this.book.setOrigin('observed', []);
    this.book.resetChecks();
    this.unsettledRounds = 0;
    this.listenPorts = this.readListenPorts();
    this.book.setOrigin('listen', this.publicListenAddresses());
    if (this.opts.nat.kind === 'extip') this.book.setOrigin('extip', addressesOn(this.opts.nat.ip, this.listenPorts));
    if (natMaps(this.opts.nat)) void this.mapper.map(this.portRequests(), true);
    this.changed();
    this.checkSoon(500);
  }

  private portRequests(): PortRequest[] {
    const seen = new Set<string>();
    const out: PortRequest[] = [];
    for (const p of this.listenPorts) {
      if (p.host.startsWith('127.') || seen.has(`tcp:${p.port}`)) continue;
      seen.add(`tcp:${p.port}`);
      out.push({ protocol: 'tcp', port: p.port, purpose: p.transport === 'ws' ? 'WebSocket' : 'libp2p TCP' });
    }
    // A node on loopback only has nothing a router could forward to: no mapping, no gateway search.
    if (out.length === 0) return [];
    if (this.opts.udpPort !== undefined && this.opts.udpPort > 0) out.push({ protocol: 'udp', port: this.opts.udpPort, purpose: 'discv5' });
    return out;
  }

  private readListenPorts(): ListenPort[] {
    const out: ListenPort[] = [];
    for (const a of this.parts.transportManager.getAddrs()) {
      const m = /^\/ip4\/([\d.]+)\/tcp\/(\d+)(\/ws)?$/.exec(a.toString());
      if (m) out.push({ host: m[1] ?? '', port: Number(m[2]), transport: m[3] === undefined ? 'tcp' : 'ws' });
    }
    return out;
  }

  private publicListenAddresses(): string[] {
    return this.listenPorts.filter((p) => !isPrivate(multiaddr(`/ip4/${p.host}/tcp/${p.port}`))).map((p) => `/ip4/${p.host}/tcp/${p.port}${p.transport === 'ws' ? '/ws' : ''}`);
  }

  private advice(): string {
    if (this.listenPorts.length > 0 && this.listenPorts.every((p) => p.host.startsWith('127.'))) {
      return 'This node listens on loopback only: nobody else can dial it. Listen on all interfaces (--listen /ip4/0.0.0.0/tcp/60000) to be reachable.';
    }
    const tcp = [...new Set(this.listenPorts.map((p) => `TCP ${p.port}${p.transport === 'ws' ? ' (WebSocket)' : ''}`))];
    const udp = this.opts.udpPort !== undefined ? [`UDP ${this.opts.udpPort} (discv5)`] : [];
    let lan = 'this computer';
    try {
      lan = lanAddressFor(defaultGateway());
    } catch {
      const own = this.listenPorts.find((p) => !p.host.startsWith('127.'));
      if (own !== undefined) lan = own.host;
    }
    const ports = [...tcp, ...udp];
    const why = this.mapper.status.state === 'failed' ? ` (the automatic mapping failed: ${this.mapper.status.error ?? 'no reason given'})` : '';
    return `Forward ${ports.join(', ')} on your router to ${lan}${why}, or run with --announce / --dns4-domain where the node has a public address.`;
  }

  private changed(): void {
    const s = this.status();
    const key = `${s.reachability}|${this.book.announced().join(',')}`;
    if (key !== this.lastVerdict) {
      const wasKnown = this.lastVerdict !== '';
      this.lastVerdict = key;
      if (wasKnown || s.reachability !== 'unknown') {
        this.opts.emit({ event: 'reachability', reachability: s.reachability, reason: s.reason, addresses: this.book.announced() });
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.opts.emit({ event: 'warning', message: `updating the node record failed: ${errorMessage(err)}` });
      }
    }
  }
}

/** The non-internal addresses of every interface: what changes when the computer moves to another network. */
function interfaceSignature(): string {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal)
    .map((i) => `${i!.address}/${i!.netmask}`)
    .sort()
    .join(',');
}
