/** Where the node listens when nobody says: the default ports, or free ones where those are taken. */
import { createServer } from 'node:net';
import { DEFAULT_LISTEN } from '../settings/config.ts';

/** The default listen addresses, each swapped for a free port when its own is taken. */
export async function defaultListenAddresses(): Promise<string[]> {
  const out: string[] = [];
  for (const addr of DEFAULT_LISTEN) {
    const port = Number(/\/tcp\/(\d+)/.exec(addr)?.[1]);
    out.push((await portIsFree(port)) ? addr : addr.replace(`/tcp/${port}`, '/tcp/0'));
  }
  return out;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}
