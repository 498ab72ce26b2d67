/**
 * A home desktop behind a router, in network namespaces the test makes and
 * removes itself (root only):
 *
 *   home 198.18.0.2 ── lan0 198.18.0.1 [router: nftables masquerade, forward
 *   drop, Debian's miniupnpd (UPnP IGD + NAT-PMP)] wan0 203.0.113.1 ── internet 203.0.113.2
 *
 * The internet namespace holds a plain libp2p AutoNAT server, a STUN server
 * (miniupnpd asks it for the public address) and a js-waku client. With
 * `--nat upnp` the Keeper at home maps its TCP port, is dialled back through
 * it and calls itself reachable, and the client queries its store through the
 * mapped address; a port miniupnpd is told to refuse is reported once and the
 * node runs on; the mapping is gone after stop. With `--nat none` it reports
 * itself unreachable and the client's dial fails. In the lab, TEST-NET-3
 * plays the public internet (test/helpers/lab-internet.ts); only the
 * namespaces' own addresses are used, and nothing routes out of them.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KeeperEvent, KeeperStatus } from '../../main/contract/contract.ts';
import { seedHistory } from '../helpers/keeper.ts';
import { hex, series } from '../helpers/messages.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = process.execPath;
const LAB = join(ROOT, 'test', 'helpers', 'lab-internet.ts');
const helper = (name: string): string => join(ROOT, 'test', 'helpers', name);
const tag = `k${process.pid}`;
const NS = { home: `${tag}-home`, router: `${tag}-router`, inet: `${tag}-inet` };
const WAN_IP = '203.0.113.1';
const INET_IP = '203.0.113.2';
const TCP_PORT = 60000;
const REFUSED_WS_PORT = 60001;

const have = (cmd: string): boolean => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, cmd)));
const missing = ['ip', 'nft', 'miniupnpd'].filter((c) => !have(c));
const skip =
  process.getuid?.() !== 0
    ? 'needs root to make network namespaces (CI runs as root)'
    : missing.length > 0 && process.env.CI === undefined
      ? `needs ${missing.join(', ')} (apt-get install iproute2 nftables miniupnpd-nftables)`
      : false; // CI installs them (.ci/run) and must run this

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const inNs = (ns: string, cmd: string, ...args: string[]): string => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

interface Child {
  proc: ChildProcess;
  lines: string[];
  events: KeeperEvent[];
  exited: Promise<number | null>;
}

const children: Child[] = [];
function start(ns: string, args: string[], opts: { stderr?: string[] } = {}): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const c: Child = { proc, lines: [], events: [], exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    c.lines.push(l);
    if (process.env.LAB_DEBUG) process.stderr.write(`[${ns} out] ${l.slice(0, 400)}\n`);
    try {
      c.events.push(JSON.parse(l) as KeeperEvent);
    } catch {
      // not a JSON line
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    opts.stderr?.push(l);
    if (process.env.LAB_DEBUG) process.stderr.write(`[${ns}] ${l}\n`);
  });
  children.push(c);
  return c;
}

async function stop(c: Child | undefined): Promise<number | null> {
  if (c === undefined || c.proc.exitCode !== null || c.proc.signalCode !== null) return c?.proc.exitCode ?? null;
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
  const code = await c.exited;
  clearTimeout(t);
  return code;
}

function removeLab(): void {
  for (const ns of Object.values(NS)) {
    try {
      sh('ip', ['netns', 'pids', ns])
        .split('\n')
        .filter(Boolean)
        .forEach((pid) => {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        });
    } catch {
      // no such namespace
    }
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // no such namespace
    }
  }
}

/** Namespaces an earlier run left when it was killed before its `after` (its process is gone). */
function removeStaleLabs(): void {
  for (const line of sh('ip', ['netns', 'list']).split('\n')) {
    const m = /^k(\d+)-(home|router|inet)\b/.exec(line);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      for (const pid of sh('ip', ['netns', 'pids', `k${m[1]}-${m[2]}`]).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      sh('ip', ['netns', 'del', `k${m[1]}-${m[2]}`]);
    }
  }
}

function makeLab(dir: string): void {
  removeStaleLabs();
  removeLab();
  for (const ns of Object.values(NS)) {
    sh('ip', ['netns', 'add', ns]);
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  sh('ip', ['link', 'add', `${tag}h`, 'netns', NS.home, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', NS.router]);
  sh('ip', ['link', 'add', `${tag}w`, 'netns', NS.router, 'type', 'veth', 'peer', 'name', 'inet0', 'netns', NS.inet]);
  inNs(NS.home, 'ip', 'link', 'set', `${tag}h`, 'name', 'eth0');
  inNs(NS.router, 'ip', 'link', 'set', `${tag}w`, 'name', 'wan0');
  inNs(NS.home, 'ip', 'addr', 'add', '198.18.0.2/24', 'dev', 'eth0');
  inNs(NS.home, 'ip', 'link', 'set', 'eth0', 'up');
  inNs(NS.home, 'ip', 'route', 'add', 'default', 'via', '198.18.0.1');
  inNs(NS.router, 'ip', 'addr', 'add', '198.18.0.1/24', 'dev', 'lan0');
  inNs(NS.router, 'ip', 'addr', 'add', `${WAN_IP}/24`, 'dev', 'wan0');
  inNs(NS.router, 'ip', 'link', 'set', 'lan0', 'up');
  inNs(NS.router, 'ip', 'link', 'set', 'wan0', 'up');
  inNs(NS.inet, 'ip', 'addr', 'add', `${INET_IP}/24`, 'dev', 'inet0');
  inNs(NS.inet, 'ip', 'link', 'set', 'inet0', 'up');
  inNs(NS.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  // A home router: LAN out masqueraded, nothing in unless miniupnpd forwards it (its chains).
  const rules = join(dir, 'router.nft');
  writeFileSync(
    rules,
    `table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "wan0" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan0" ip saddr 198.18.0.0/24 masquerade
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`,
  );
  inNs(NS.router, 'nft', '-f', rules);
}

function miniupnpdConf(dir: string): string {
  const conf = join(dir, 'miniupnpd.conf');
  writeFileSync(
    conf,
    [
      'ext_ifname=wan0',
      'listening_ip=lan0',
      'port=0',
      'enable_upnp=yes',
      'enable_natpmp=yes',
      // The WAN address is in a reserved range: miniupnpd maps only once STUN says it is public.
      'ext_perform_stun=yes',
      `ext_stun_host=${INET_IP}`,
      'ext_stun_port=3478',
      'secure_mode=yes',
      'system_uptime=yes',
      `lease_file=${join(dir, 'upnp.leases')}`,
      'uuid=6a0cbd2c-5b8e-4c55-9c3b-4b3c0f2d7e11',
      // A router that refuses some ports: this one the Keeper also asks for.
      `deny 0-65535 0.0.0.0/0 ${REFUSED_WS_PORT}-${REFUSED_WS_PORT}`,
      'allow 1024-65535 198.18.0.0/24 1024-65535',
      'deny 0-65535 0.0.0.0/0 0-65535',
      '',
    ].join('\n'),
  );
  return conf;
}

/** The Keeper's status, read inside the home namespace (its API is on that namespace's loopback). */
function homeStatus(dataDir: string, api: string): KeeperStatus {
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const script = `fetch(${JSON.stringify(`${api}/api/status`)},{headers:{Authorization:'Bearer ${token}'}}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
  return JSON.parse(inNs(NS.home, NODE, '-e', script)) as KeeperStatus;
}

function outsideQuery(addr: string): { ok: boolean; hashes?: string[]; error?: string } {
  const out = inNs(NS.inet, NODE, helper('lab-client.ts'), addr);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ok: boolean; hashes?: string[]; error?: string };
}

describe('reachable from a home desktop (network namespaces)', { skip, timeout: 240_000 }, () => {
  let dir: string;
  let dataDir: string;
  let autonatAddr: string;
  const seeded = series(10, BigInt(Date.now() - 3_600_000) * 1_000_000n);
  const upnpLog: string[] = [];

  const keeperArgs = (nat: string): string[] => [
    NODE,
    '--import',
    LAB,
    join(ROOT, 'bin', 'waku-keeper.js'),
    '--data-dir',
    dataDir,
    '--pubsub-topic',
    '/waku/2/rs/16/32',
    '--listen',
    `/ip4/0.0.0.0/tcp/${TCP_PORT}`,
    '--listen',
    `/ip4/0.0.0.0/tcp/${REFUSED_WS_PORT}/ws`,
    '--api',
    '127.0.0.1:0',
    '--no-discovery',
    '--peer',
    autonatAddr,
    '--nat',
    nat,
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keeper-lab-'));
    dataDir = join(dir, 'home-data');
    seedHistory(dataDir, seeded);
    makeLab(dir);
  });

  after(async () => {
    for (const c of children.reverse()) await stop(c);
    removeLab();
    rmSync(dir, { recursive: true, force: true });
    const left = sh('ip', ['netns', 'list']);
    assert.ok(!left.includes(tag), `namespaces left behind: ${left}`);
  });

  // A Keeper a failed test leaves running would hold the home's port for the next one.
  let keeper: Child | undefined;
  afterEach(async () => {
    await stop(keeper);
    keeper = undefined;
  });

  it('sets up the internet side: STUN, miniupnpd on the router, a libp2p AutoNAT server', async () => {
    const stun = start(NS.inet, [NODE, helper('lab-stun.ts'), INET_IP, '3478']);
    await waitFor('the STUN server', () => stun.lines.length > 0, { timeoutMs: 10_000 });
    start(NS.router, ['miniupnpd', '-d', '-f', miniupnpdConf(dir), '-P', join(dir, 'miniupnpd.pid')], { stderr: upnpLog });
    await waitFor('miniupnpd to learn its public address by STUN', () => upnpLog.some((l) => /Port forwarding is now enabled/.test(l)), { timeoutMs: 15_000 });
    await waitFor('miniupnpd to listen', () => upnpLog.some((l) => /Listening for NAT-PMP/.test(l)), { timeoutMs: 10_000 });
    const autonat = start(NS.inet, [NODE, '--import', LAB, helper('lab-autonat.ts'), INET_IP, '4001']);
    await waitFor('the AutoNAT server', () => autonat.events.length > 0, { timeoutMs: 20_000 });
    autonatAddr = (autonat.events[0] as unknown as { multiaddr: string }).multiaddr;
    assert.match(autonatAddr, new RegExp(`^/ip4/${INET_IP.replace(/\./g, '\\.')}/tcp/4001/p2p/`));
  });

  it('with --nat upnp: maps its port, is confirmed reachable by AutoNAT, and the outside queries its store through the mapping', async () => {
    assert.ok(autonatAddr, 'needs the internet side');
    const k = (keeper = start(NS.home, keeperArgs('upnp')));
    await waitFor('ready', () => k.events.some((e) => e.event === 'ready'), { timeoutMs: 30_000 });
    const ready = k.events.find((e) => e.event === 'ready');
    assert.ok(ready?.event === 'ready');
    const mapped = `/ip4/${WAN_IP}/tcp/${TCP_PORT}`;
    await waitFor('a reachability event: public', () => k.events.some((e) => e.event === 'reachability' && e.reachability === 'public'), { timeoutMs: 60_000 });
    const s = homeStatus(dataDir, ready.api);
    assert.equal(s.reach.reachability, 'public');
    assert.equal(s.reach.mapping.method, 'upnp');
    assert.equal(s.reach.mapping.state, 'mapped');
    assert.equal(s.reach.mapping.externalIp, WAN_IP);
    assert.deepEqual(
      s.reach.mapping.ports.map((p) => [p.protocol, p.internalPort, p.externalPort]),
      [['tcp', TCP_PORT, TCP_PORT]],
    );
    const addr = s.reach.addresses.find((a) => a.multiaddr === mapped);
    assert.ok(addr, JSON.stringify(s.reach.addresses));
    assert.ok(addr.origins.includes('upnp'));
    assert.equal(addr.check, 'confirmed');
    assert.equal(addr.checkedBy, autonatAddr.split('/p2p/')[1]);
    assert.equal(s.reach.advice, null);
    assert.ok(s.share.reachable);
    assert.equal(s.share.multiaddrs[0], `${mapped}/p2p/${ready.peerId}`);
    assert.ok(inNs(NS.router, 'nft', 'list', 'ruleset').includes(`${TCP_PORT}`), 'miniupnpd forwards the port');
    // The refused WebSocket port: told once, and the node runs on.
    const refusals = k.events.filter((e) => e.event === 'warning' && e.message.includes(`${REFUSED_WS_PORT}`));
    assert.equal(refusals.length, 1, JSON.stringify(refusals));
    assert.match(s.reach.mapping.error ?? '', new RegExp(`${REFUSED_WS_PORT}`));

    const got = outsideQuery(`${mapped}/p2p/${ready.peerId}`);
    assert.ok(got.ok, got.error);
    assert.deepEqual(got.hashes?.sort(), seeded.map((m) => hex(m.hash)).sort());

    assert.equal(await stop(k), 0);
    assert.ok(!inNs(NS.router, 'nft', 'list', 'chain', 'inet', 'filter', 'miniupnpd').includes(`${TCP_PORT}`), 'the mapping is removed on stop');
  });

  it('with --nat none: reports itself unreachable, says which port to forward, and the outside dial fails', async () => {
    assert.ok(autonatAddr, 'needs the internet side');
    const k = (keeper = start(NS.home, keeperArgs('none')));
    await waitFor('ready', () => k.events.some((e) => e.event === 'ready'), { timeoutMs: 30_000 });
    const ready = k.events.find((e) => e.event === 'ready');
    assert.ok(ready?.event === 'ready');
    await waitFor('a reachability event: private', () => k.events.some((e) => e.event === 'reachability' && e.reachability === 'private'), { timeoutMs: 60_000 });
    const s = homeStatus(dataDir, ready.api);
    assert.equal(s.reach.reachability, 'private');
    assert.equal(s.reach.mapping.state, 'off');
    assert.ok(s.reach.addresses.every((a) => a.check !== 'confirmed'));
    assert.match(s.reach.advice ?? '', new RegExp(`Forward TCP ${TCP_PORT}.* to 198\\.18\\.0\\.2`));
    assert.equal(s.share.reachable, false);
    const got = outsideQuery(`/ip4/${WAN_IP}/tcp/${TCP_PORT}/p2p/${ready.peerId}`);
    assert.equal(got.ok, false, 'nothing is forwarded: the dial from outside fails');
    assert.equal(await stop(k), 0);
  });
});
