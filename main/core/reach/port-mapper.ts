/**
 * Port mappings on the home router: UPnP IGD (found by an IPv4 SSDP search, ssdp-search.ts) or NAT-PMP (sent
 * to the default gateway), with @achingbrain/nat-port-mapper. Each port is
 * mapped for an hour and renewed at half-time by this module (the library's
 * own refresh only logs its failures), and removed on stop. A router that
 * refuses is reported once per reason; the node runs on without a mapping.
 */
import { pmpNat, upnpNat } from '@achingbrain/nat-port-mapper';
import type { Gateway } from '@achingbrain/nat-port-mapper';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { PortMappingStatus } from '../../contract/contract.ts';
import { errorMessage } from '../util/errors.ts';
import { natModeText } from './nat-options.ts';
import { searchGateway } from './ssdp-search.ts';
import type { NatMode } from './nat-options.ts';

export interface PortRequest {
  protocol: 'tcp' | 'udp';
  port: number;
  /** What the port is for, as a person reads it: "libp2p TCP", "WebSocket", "discv5". */
  purpose: string;
}

export interface MappedPort extends PortRequest {
  externalIp: string;
  externalPort: number;
  internalHost: string;
}

export interface PortMapperOptions {
  mode: NatMode;
  /** Lease asked of the router; renewed at half of it. */
  leaseMs?: number;
  /** How long to look for a UPnP gateway (SSDP) and wait for any one answer. */
  timeoutMs?: number;
  /** Called whenever the status changes. */
  onChange?: () => void;
  /** A problem worth telling the person, once per distinct message. */
  onProblem?: (message: string) => void;
  now?: () => number;
}

const DESCRIPTION = 'Waku Keeper';

export class PortMapper {
  private readonly mode: NatMode;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly onChange: () => void;
  private readonly onProblem: (message: string) => void;
  private readonly now: () => number;
  private readonly told = new Set<string>();
  private gateway: { gw: Gateway; method: 'upnp' | 'pmp' } | undefined;
  private mapped: MappedPort[] = [];
  private wanted: PortRequest[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private running = false;
  private busy: Promise<void> = Promise.resolve();
  readonly status: PortMappingStatus;

  constructor(opts: PortMapperOptions) {
    this.mode = opts.mode;
    this.leaseMs = opts.leaseMs ?? 3_600_000;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.onChange = opts.onChange ?? (() => undefined);
    this.onProblem = opts.onProblem ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.status = { mode: natModeText(opts.mode), method: null, state: 'off', gateway: null, externalIp: null, ports: [], error: null, renewedAtMs: null };
  }

  get ports(): readonly MappedPort[] {
    return this.mapped;
  }

  /** Maps these ports (again: after a network change the gateway is looked for anew). Never throws. */
  map(ports: readonly PortRequest[], fresh = false): Promise<void> {
    this.running = true;
    this.wanted = [...ports];
    this.busy = this.busy.then(() => this.mapNow(fresh)).catch(() => undefined);
    return this.busy;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.renewTimer);
    await this.busy;
    await this.release();
  }

  private async mapNow(fresh: boolean): Promise<void> {
    if (!this.running || this.wanted.length === 0) {
      if (this.wanted.length === 0) await this.release();
      return;
    }
    if (fresh) await this.release();
    this.status.state = this.gateway === undefined ? 'searching' : this.status.state;
    this.onChange();
    try {
      this.gateway ??= await this.findGateway();
    } catch (err) {
      this.fail(`no router to map ports on (${errorMessage(err)})`);
      return this.scheduleRenewal();
    }
    const { gw, method } = this.gateway;
    this.status.method = method;
    this.status.gateway = gw.host;
    const mapped: MappedPort[] = [];
    const refused: string[] = [];
    for (const p of this.wanted) {
      try {
        const internalHost = lanAddressFor(gw.host);
        const m = await gw.map(p.port, internalHost, {
          protocol: p.protocol === 'tcp' ? 'TCP' : 'UDP',
          description: DESCRIPTION,
          // nat-port-mapper 4.0's NAT-PMP client sends `ttl` as seconds, its UPnP client takes milliseconds.
          ttl: method === 'pmp' ? Math.round(this.leaseMs / 1000) : this.leaseMs,
          autoRefresh: false,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        mapped.push({ ...p, externalIp: m.externalHost, externalPort: m.externalPort, internalHost });
      } catch (err) {
        refused.push(`${p.protocol.toUpperCase()} ${p.port} (${p.purpose}): ${errorMessage(err)}`);
      }
    }
    this.mapped = mapped;
    this.status.ports = mapped.map((m) => ({ protocol: m.protocol, internalPort: m.port, externalPort: m.externalPort, purpose: m.purpose }));
    this.status.externalIp = mapped[0]?.externalIp ?? this.status.externalIp;
    if (mapped.length > 0) {
      this.status.state = 'mapped';
      this.status.renewedAtMs = this.now();
      this.status.error = refused.length > 0 ? `the router refused ${refused.join('; ')}` : null;
    }
    if (refused.length > 0) {
      const message = `the router at ${gw.host} (${method === 'upnp' ? 'UPnP' : 'NAT-PMP'}) refused to map ${refused.join('; ')}`;
      if (mapped.length === 0) this.fail(message);
      else this.tell(message);
    }
    this.onChange();
    this.scheduleRenewal();
  }

  private fail(message: string): void {
    this.status.state = 'failed';
    this.status.error = message;
    this.mapped = [];
    this.status.ports = [];
    this.tell(message);
    this.onChange();
  }

  private tell(message: string): void {
    // The same trouble is told once; a router that refuses every renewal is not news every half hour.
    const key = message.replace(/\d+ ms|\(.*?timed? ?out.*?\)/gi, '');
    if (this.told.has(key)) return;
    this.told.add(key);
    this.onProblem(message);
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewTimer);
    if (!this.running) return;
    this.renewTimer = setTimeout(() => void this.map(this.wanted), this.leaseMs / 2);
    this.renewTimer.unref();
  }

  private async findGateway(): Promise<{ gw: Gateway; method: 'upnp' | 'pmp' }> {
    const errors: string[] = [];
    if (this.mode.kind === 'any' || this.mode.kind === 'upnp') {
      try {
        return { gw: await findUpnpGateway(this.timeoutMs), method: 'upnp' };
      } catch (err) {
        errors.push(`UPnP: ${errorMessage(err)}`);
      }
    }
    if (this.mode.kind === 'any' || this.mode.kind === 'pmp') {
      try {
        const host = defaultGateway();
        const gw = pmpNat(host, { autoRefresh: false, description: DESCRIPTION });
        // A router without NAT-PMP never answers: ask for the external address first, bounded.
        await gw.externalIp({ signal: AbortSignal.timeout(this.timeoutMs) }).catch(async (err: unknown) => {
          await closeQuietly(gw);
          throw err;
        });
        return { gw, method: 'pmp' };
      } catch (err) {
        errors.push(`NAT-PMP: ${errorMessage(err)}`);
      }
    }
    throw new Error(errors.join('; ') || 'mapping is off');
  }

  /** Removes the mappings (bounded) and lets the gateway go. */
  private async release(): Promise<void> {
    const g = this.gateway;
    this.gateway = undefined;
    const mapped = this.mapped;
    this.mapped = [];
    if (g === undefined) return;
    for (const m of mapped) {
      const signal = AbortSignal.timeout(Math.min(this.timeoutMs, 3_000));
      try {
        if (g.method === 'pmp') {
          // NAT-PMP deletes with a zero lifetime; the library's own unmap would then refresh that forever.
          await g.gw.map(m.port, '', { protocol: m.protocol === 'tcp' ? 'TCP' : 'UDP', ttl: 0, autoRefresh: false, signal });
        } else await g.gw.unmap(m.port, { signal });
      } catch {
        // the router went away: its lease runs out on its own
      }
    }
    await closeQuietly(g.gw);
    this.status.state = 'off';
    this.status.ports = [];
  }
}

async function findUpnpGateway(timeoutMs: number): Promise<Gateway> {
  const signal = AbortSignal.timeout(timeoutMs);
  let location: URL;
  try {
    location = await searchGateway({ signal });
  } catch {
    throw new Error(`no UPnP gateway answered within ${timeoutMs} ms`);
  }
  try {
    return await upnpNat({ autoRefresh: false, description: DESCRIPTION }).getGateway(location, { signal });
  } catch (err) {
    throw new Error(`the UPnP gateway at ${location.host} gave no usable description: ${errorMessage(err)}`);
  }
}

async function closeQuietly(gw: Gateway): Promise<void> {
  try {
    await gw.stop({ signal: AbortSignal.timeout(1_000) });
  } catch {
    // nothing to release
  }
}

/** The IPv4 default gateway (Linux /proc/net/route). */
export function defaultGateway(routes = safeRead('/proc/net/route')): string {
  for (const line of routes.split('\n').slice(1)) {
    const [, dest, gateway, flags] = line.trim().split(/\s+/);
    if (dest !== '00000000' || gateway === undefined || (Number.parseInt(flags ?? '0', 16) & 2) === 0) continue;
    const n = Number.parseInt(gateway, 16);
    return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff].join('.');
  }
  throw new Error('no default gateway found');
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** This host's address on the gateway's network: the one the router forwards to. */
export function lanAddressFor(gateway: string, interfaces = networkInterfaces()): string {
  const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const candidates = Object.values(interfaces)
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
  for (const i of candidates) {
    const mask = toInt(i!.netmask);
    if ((toInt(i!.address) & mask) >>> 0 === (toInt(gateway) & mask) >>> 0) return i!.address;
  }
  const first = candidates[0];
  if (first === undefined) throw new Error('no network interface to map a port to');
  return first.address;
}
