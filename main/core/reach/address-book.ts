/**
 * The node's public address candidates, where each came from, what strangers'
 * dial-backs said of it, and what follows: whether the node is reachable, which
 * addresses to give out, what to put in the ENR. Pure: the reach service feeds
 * it and reads it.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { AddressCheck, AddressOrigin, PublicAddress, Reachability } from '../../contract/contract.ts';

/** One port the node listens on, as the transports report it. */
export interface ListenPort {
  /** The interface address it is bound to (0.0.0.0 expanded), e.g. 192.168.1.20. */
  host: string;
  port: number;
  transport: 'tcp' | 'ws';
}

interface Entry {
  origins: Set<AddressOrigin>;
  check: AddressCheck;
  checkedAtMs: number | null;
  checkedBy: string | null;
}

/** Origins a person or a router vouched for: announced even before a stranger confirms them. */
const VOUCHED: ReadonlySet<AddressOrigin> = new Set(['announce', 'dns4', 'extip', 'upnp', 'pmp', 'listen']);

export class AddressBook {
  private readonly entries = new Map<string, Entry>();

  /** Replaces the candidates of one origin (the mapping after a renewal, observed ones after a network change). */
  setOrigin(origin: AddressOrigin, addrs: readonly string[]): boolean {
    let changed = false;
    const wanted = new Set(addrs.map((a) => multiaddr(a).toString()));
    for (const [addr, e] of this.entries) {
      if (e.origins.has(origin) && !wanted.has(addr)) {
        e.origins.delete(origin);
        if (e.origins.size === 0) this.entries.delete(addr);
        changed = true;
      }
    }
    for (const addr of wanted) {
      const e = this.entries.get(addr);
      if (e === undefined) {
        this.entries.set(addr, { origins: new Set([origin]), check: 'unchecked', checkedAtMs: null, checkedBy: null });
        changed = true;
      } else if (!e.origins.has(origin)) {
        e.origins.add(origin);
        changed = true;
      }
    }
    return changed;
  }

  /** Records a dial-back's answer; true when the address's check changed. */
  record(addr: string, confirmed: boolean, by: string, atMs: number): boolean {
    const e = this.entries.get(multiaddr(addr).toString());
    if (e === undefined) return false;
    const check: AddressCheck = confirmed ? 'confirmed' : 'failed';
    const changed = e.check !== check;
    e.check = check;
    e.checkedAtMs = atMs;
    e.checkedBy = by;
    return changed;
  }

  /** Forgets every dial-back's answer (the network changed: what was true may be no longer). */
  resetChecks(): void {
    for (const e of this.entries.values()) {
      e.check = 'unchecked';
      e.checkedAtMs = null;
      e.checkedBy = null;
    }
  }

  /** Addresses a dial-back can test: an IP host (a stranger's AutoNAT dials only the IP it sees us from), TCP first. */
  checkable(): string[] {
    return [...this.entries.keys()].filter((a) => /^\/ip[46]\//.test(a)).sort((a, b) => Number(a.includes('/ws')) - Number(b.includes('/ws')));
  }

  list(): PublicAddress[] {
    return [...this.entries].map(([addr, e]) => ({
      multiaddr: addr,
      origins: [...e.origins].sort(),
      check: e.check,
      checkedAtMs: e.checkedAtMs,
      checkedBy: e.checkedBy,
      announced: announced(e),
    }));
  }

  /** The addresses to give out, best first: confirmed, then vouched for; never one a dial-back failed. */
  announced(): string[] {
    const rank = (e: Entry): number => (e.check === 'confirmed' ? 0 : e.origins.has('announce') || e.origins.has('dns4') ? 1 : 2);
    return [...this.entries]
      .filter(([, e]) => announced(e))
      .sort(([a, x], [b, y]) => rank(x) - rank(y) || Number(a.includes('/ws')) - Number(b.includes('/ws')))
      .map(([addr]) => addr);
  }

  lastCheckMs(): number | null {
    const times = [...this.entries.values()].map((e) => e.checkedAtMs).filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.max(...times);
  }

  /**
   * Reachable once one address is confirmed by a stranger; private when
   * dial-backs failed and none was confirmed, or when there is no public
   * address at all though peers see this node (a NAT with nothing mapped).
   */
  verdict(seenFromOutside: boolean): { reachability: Reachability; reason: string } {
    const all = [...this.entries.values()];
    const confirmed = [...this.entries].find(([, e]) => e.check === 'confirmed');
    if (confirmed !== undefined) return { reachability: 'public', reason: `a stranger dialled ${confirmed[0]} back (AutoNAT)` };
    const failed = [...this.entries].filter(([, e]) => e.check === 'failed');
    if (failed.length > 0) return { reachability: 'private', reason: `dial-backs to ${failed.map(([a]) => a).join(', ')} failed (AutoNAT)` };
    if (all.length === 0 && seenFromOutside) return { reachability: 'private', reason: 'behind a NAT with no port mapped and no public address announced' };
    if (all.length === 0) return { reachability: 'unknown', reason: 'no public address known yet: no mapping, and no peer has told this node how it sees it' };
    return { reachability: 'unknown', reason: 'not checked yet: it takes a connected peer that offers AutoNAT' };
  }
}

function announced(e: Entry): boolean {
  if (e.check === 'failed') return false;
  return e.check === 'confirmed' || [...e.origins].some((o) => VOUCHED.has(o));
}

/** Candidate addresses for a public IP: the node's TCP and WebSocket ports on it. */
export function addressesOn(ip: string, ports: readonly ListenPort[]): string[] {
  const family = ip.includes(':') ? 'ip6' : 'ip4';
  const seen = new Set<string>();
  for (const p of ports) seen.add(`/${family}/${ip}/tcp/${p.port}${p.transport === 'ws' ? '/ws' : ''}`);
  return [...seen];
}

/** What to put in the ENR: the first IPv4 TCP address as ip/tcp, everything else ip/tcp cannot say in `multiaddrs`. */
export function enrAddresses(addrs: readonly string[]): { ip?: string; tcp?: number; multiaddrs: string[] } {
  const plain = addrs.map((a) => /^\/ip4\/([\d.]+)\/tcp\/(\d+)$/.exec(a)).find((m) => m !== null);
  const ip = plain?.[1];
  const tcp = plain === undefined ? undefined : Number(plain[2]);
  const rest = addrs.filter((a) => a !== plain?.[0] && !/^\/ip[46]\/[^/]+\/tcp\/\d+$/.test(a));
  return { ...(ip === undefined ? {} : { ip, tcp }), multiaddrs: rest };
}
