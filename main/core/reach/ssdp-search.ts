/**
 * Finding the home router's UPnP description by SSDP, over IPv4 only.
 *
 * @achingbrain/nat-port-mapper's own search opens an IPv4 and an IPv6 socket and
 * ends the whole search on the first send error, so on a host with no IPv6
 * route (most home desktops) the IPv6 send fails at once with EADDRNOTAVAIL and
 * the router's answer, which UPnP lets it delay up to MX seconds, arrives to
 * nobody. Here the M-SEARCH is sent from an ephemeral IPv4 port (a desktop's
 * port 1900 is often held by another app) and sent again while waiting, since
 * SSDP is UDP; the first answer naming a LOCATION is returned.
 */
import { createSocket } from 'node:dgram';

const SSDP_GROUP = '239.255.255.250';
const SSDP_PORT = 1900;
export const IGD2 = 'urn:schemas-upnp-org:device:InternetGatewayDevice:2';

export interface SsdpSearchOptions {
  signal: AbortSignal;
  serviceType?: string;
  /** How often the search is sent again while no answer came. */
  repeatMs?: number;
  /** Where to send it: the SSDP group unless a test or a single router is meant. */
  target?: { address: string; port: number };
}

/** The M-SEARCH request, as UPnP Device Architecture 1.1 §1.3.2 has it (MX 1: answers within a second). */
export function mSearch(serviceType: string): string {
  return ['M-SEARCH * HTTP/1.1', `HOST: ${SSDP_GROUP}:${SSDP_PORT}`, 'MAN: "ssdp:discover"', 'MX: 1', `ST: ${serviceType}`, '', ''].join('\r\n');
}

/** The LOCATION of an SSDP answer for the service type, or undefined for anything else. */
export function locationOf(answer: string, serviceType: string): URL | undefined {
  const [status, ...lines] = answer.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200\b/.test(status ?? '')) return undefined;
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toUpperCase(), l.slice(i + 1).trim());
  }
  if (headers.get('ST') !== serviceType) return undefined;
  const location = headers.get('LOCATION');
  if (location === undefined) return undefined;
  try {
    const url = new URL(location);
    return url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves with the first gateway description URL that answers; rejects when the signal aborts first. */
export function searchGateway(opts: SsdpSearchOptions): Promise<URL> {
  const serviceType = opts.serviceType ?? IGD2;
  const target = opts.target ?? { address: SSDP_GROUP, port: SSDP_PORT };
  const request = Buffer.from(mSearch(serviceType));
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4' });
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (err: Error | undefined, url?: URL): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      opts.signal.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // never bound (the error that brought us here)
      }
      if (url !== undefined) resolve(url);
      else reject(err ?? new Error('SSDP search ended'));
    };
    const onAbort = (): void => done(new Error('no UPnP gateway answered'));
    if (opts.signal.aborted) {
      socket.close();
      reject(new Error('no UPnP gateway answered'));
      return;
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const send = (): void => {
      // A send that fails (no route yet) is tried again on the next round.
      socket.send(request, target.port, target.address, () => undefined);
    };
    socket.on('message', (msg) => {
      const url = locationOf(msg.toString('utf8'), serviceType);
      if (url !== undefined) done(undefined, url);
    });
    socket.on('error', (err) => done(err));
    socket.bind(0, () => {
      try {
        socket.setMulticastTTL(4);
      } catch {
        // a unicast target
      }
      send();
      timer = setInterval(send, opts.repeatMs ?? 1_500);
    });
  });
}
