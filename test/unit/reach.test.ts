/**
 * The pure parts of reachability and discovery: the flags as nwaku names them,
 * the ENR against nwaku's and js-waku's test vectors (and js-waku's decoder on
 * what Keeper signs), the address book's verdicts and choices, the share card,
 * the SSDP search for the router.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { EnrDecoder } from '@waku/enr';
import { ENR } from '@chainsafe/enr';
import { parseCli } from '../../main/core/settings/config.ts';
import { ConfigError } from '../../main/core/util/errors.ts';
import { parseAnnounce, parseDomain, parseNat } from '../../main/core/reach/nat-options.ts';
import { IGD2, locationOf, mSearch, searchGateway } from '../../main/core/reach/ssdp-search.ts';
import { createSocket } from 'node:dgram';
import {
  KEEPER_CAPABILITIES,
  applyEnrContent,
  createNodeEnr,
  decodeEnr,
  decodeMultiaddrs,
  decodeWaku2,
  encodeMultiaddrs,
  encodeRelayShards,
  encodeWaku2,
} from '../../main/core/discovery/enr.ts';
import { AddressBook, addressesOn, enrAddresses } from '../../main/core/reach/address-book.ts';
import { defaultGateway, lanAddressFor } from '../../main/core/reach/port-mapper.ts';
import { decodeDialResponse, encodeDialRequest } from '../../main/core/reach/dial-back.ts';
import { buildShare } from '../../main/core/discovery/share.ts';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

// nwaku tests/test_waku_enr.nim, "decode record with multiaddrs field": a status.prod store node.
const NWAKU_VECTOR =
  'enr:-QEMuEAs8JmmyUI3b9v_ADqYtELHUYAsAMS21lA2BMtrzF86tVmyy9cCrhmzfHGHx_g3nybn7jIRybzXTGNj3C2KzrriAYJpZIJ2NIJpcISf3_Jeim11bHRpYWRkcnO4XAArNiZzdG9yZS0wMS5kby1hbXMzLnN0YXR1cy5wcm9kLnN0YXR1cy5pbQZ2XwAtNiZzdG9yZS0wMS5kby1hbXMzLnN0YXR1cy5wcm9kLnN0YXR1cy5pbQYBu94DgnJzjQAQBQABACAAQACAAQCJc2VjcDI1NmsxoQLfoaQH3oSYW59yxEBfeAZbltmUnC4BzYkHqer2VQMTyoN0Y3CCdl-DdWRwgiMohXdha3UyAw';
// js-waku packages/enr/src/enr.spec.ts, "decode valid ENR with multiaddrs [shared test vector]".
const JSWAKU_VECTOR =
  'enr:-QEnuEBEAyErHEfhiQxAVQoWowGTCuEF9fKZtXSd7H_PymHFhGJA3rGAYDVSHKCyJDGRLBGsloNbS8AZF33IVuefjOO6BIJpZIJ2NIJpcIQS39tkim11bHRpYWRkcnO4lgAvNihub2RlLTAxLmRvLWFtczMud2FrdXYyLnRlc3Quc3RhdHVzaW0ubmV0BgG73gMAODcxbm9kZS0wMS5hYy1jbi1ob25na29uZy1jLndha3V2Mi50ZXN0LnN0YXR1c2ltLm5ldAYBu94DACm9A62t7AQL4Ef5ZYZosRpQTzFVAB8jGjf1TER2wH-0zBOe1-MDBNLeA4lzZWNwMjU2azGhAzfsxbxyCkgCqq8WwYsVWH7YkpMLnU2Bw5xJSimxKav-g3VkcIIjKA';

const base = ['--no-discovery', '--pubsub-topic', '/waku/2/rs/16/32'];
function flagError(args: string[]): ConfigError {
  try {
    parseCli([...base, ...args]);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

describe('reachability flags, as nwaku names them', () => {
  it('--nat takes any, upnp, pmp, extip:IP and none; anything else is refused naming the flag', () => {
    assert.deepEqual(parseNat('--nat', 'any'), { kind: 'any' });
    assert.deepEqual(parseNat('--nat', 'PMP'), { kind: 'pmp' });
    assert.deepEqual(parseNat('--nat', 'extip:203.0.113.7'), { kind: 'extip', ip: '203.0.113.7' });
    const r = parseCli([...base, '--nat', 'none']);
    assert.ok(r.kind === 'run' && r.config.nat.kind === 'none');
    assert.equal(flagError(['--nat', 'stun']).field, '--nat');
    assert.match(flagError(['--nat', 'extip:300.1.2.3']).message, /^--nat: "300\.1\.2\.3" is not an IP address/);
  });

  it('defaults to --nat any (on by default on desktops) and discv5 on UDP 9000', () => {
    const r = parseCli(['--pubsub-topic', '/waku/2/rs/16/32']);
    assert.ok(r.kind === 'run');
    assert.deepEqual(r.config.nat, { kind: 'any' });
    assert.equal(r.config.discv5UdpPort, undefined, '9000, or a free port when taken');
    assert.deepEqual(r.config.discv5Bootstrap, []);
  });

  it('--announce is repeatable and must be an IP or DNS address with a TCP port, without /p2p/', () => {
    const r = parseCli([...base, '--announce', '/ip4/203.0.113.7/tcp/60000', '--announce', '/dns4/k.example.org/tcp/443/wss']);
    assert.ok(r.kind === 'run');
    assert.deepEqual(r.config.announce, ['/ip4/203.0.113.7/tcp/60000', '/dns4/k.example.org/tcp/443/wss']);
    assert.match(flagError(['--announce', 'not-an-addr']).message, /^--announce: "not-an-addr" is not a multiaddr/);
    assert.match(flagError(['--announce', '/ip4/203.0.113.7/udp/9000']).message, /^--announce: .*TCP port/);
    assert.match(parseAnnounceError('/ip4/203.0.113.7/tcp/1/p2p/16Uiu2HAmLxNJLh8N9JftzEJrjZErrSVVgm1jrDYNEa3TcjZyVgnV'), /leave out \/p2p\//);
  });

  it('--dns4-domain must be a DNS name; --discv5-udp-port a port; --discv5-bootstrap a signed ENR', () => {
    assert.equal(parseDomain('--dns4-domain', 'Keeper.Example.org.'), 'keeper.example.org');
    assert.equal(flagError(['--dns4-domain', 'no_such name']).field, '--dns4-domain');
    assert.equal(flagError(['--discv5-udp-port', '70000']).field, '--discv5-udp-port');
    assert.equal(flagError(['--discv5-udp-port', 'nine']).field, '--discv5-udp-port');
    assert.match(flagError(['--discv5-bootstrap', 'enode://abc']).message, /^--discv5-bootstrap: .* is not an ENR/);
    // One flipped character breaks the signature.
    const forged = NWAKU_VECTOR.slice(0, 60) + (NWAKU_VECTOR[60] === 'A' ? 'B' : 'A') + NWAKU_VECTOR.slice(61);
    assert.match(flagError(['--discv5-bootstrap', forged]).message, /^--discv5-bootstrap: .* is not a valid signed ENR/);
    const ok = parseCli([...base, '--discv5-bootstrap', NWAKU_VECTOR]);
    assert.ok(ok.kind === 'run' && ok.config.discv5Bootstrap.length === 1);
  });
});

function parseAnnounceError(text: string): string {
  try {
    parseAnnounce('--announce', text);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
}

describe('ENR (EIP-778 with 31/WAKU2-ENR fields)', () => {
  it("decodes nwaku's status.prod store vector: ip/tcp, both multiaddrs, relay+store, cluster 16's shards", () => {
    const d = decodeEnr(NWAKU_VECTOR);
    assert.equal(d.peerId, '16Uiu2HAmAUdrQ3uwzuE4Gy4D56hX6uLKEeerJAnhKEHZ3DxF1EfT');
    assert.equal(d.ip, '159.223.242.94');
    assert.equal(d.tcp, 30303);
    assert.equal(d.udp, 9000);
    const p2p = `/p2p/${d.peerId}`;
    assert.ok(d.multiaddrs.includes(`/dns4/store-01.do-ams3.status.prod.status.im/tcp/30303${p2p}`));
    assert.ok(d.multiaddrs.includes(`/dns4/store-01.do-ams3.status.prod.status.im/tcp/443/wss${p2p}`));
    assert.deepEqual(d.capabilities, { relay: true, store: true, filter: false, lightPush: false, sync: false });
    assert.deepEqual(d.shards, { clusterId: 16, shards: [1, 32, 64, 128, 256] });
  });

  it("decodes js-waku's shared multiaddrs vector, and re-encodes its multiaddrs field byte for byte", () => {
    const d = decodeEnr(JSWAKU_VECTOR);
    const bare = d.multiaddrs.map((a) => multiaddr(a).decapsulateCode(421).toString());
    for (const a of [
      '/dns4/node-01.do-ams3.wakuv2.test.statusim.net/tcp/443/wss',
      '/dns6/node-01.ac-cn-hongkong-c.wakuv2.test.statusim.net/tcp/443/wss',
      '/onion3/vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd:1234/wss',
    ]) {
      assert.ok(bare.includes(a), a);
    }
    const field = ENR.decodeTxt(JSWAKU_VECTOR).kvs.get('multiaddrs');
    assert.ok(field !== undefined);
    const inField = decodeMultiaddrs(field);
    assert.equal(inField.length, 3);
    assert.deepEqual(Buffer.from(encodeMultiaddrs(inField)), Buffer.from(field), 'the field as js-waku and nwaku encode it');
  });

  it("encodes the waku2 bits as js-waku's and nwaku's tests expect", () => {
    const none = { relay: false, store: false, filter: false, lightPush: false, sync: false };
    assert.equal(encodeWaku2({ ...none, relay: true }), 1);
    assert.equal(encodeWaku2({ ...none, store: true }), 2);
    assert.equal(encodeWaku2({ ...none, filter: true }), 4);
    assert.equal(encodeWaku2({ ...none, lightPush: true }), 8);
    assert.equal(encodeWaku2({ ...none, relay: true, filter: true }), 5);
    assert.equal(encodeWaku2(KEEPER_CAPABILITIES), 3);
    assert.deepEqual(decodeWaku2(10), { ...none, store: true, lightPush: true });
    assert.deepEqual(encodeRelayShards({ clusterId: 16, shards: [1, 32, 64, 128, 256] }).value, Uint8Array.from([0, 16, 5, 0, 1, 0, 32, 0, 64, 0, 128, 1, 0]));
  });

  it("signs a record js-waku's decoder reads back: peer id, ip/tcp, ws and dns multiaddrs, relay+store, shards", async () => {
    const key = await generateKeyPair('secp256k1');
    const content = {
      ip: '203.0.113.1',
      tcp: 60000,
      udp: 9000,
      multiaddrs: ['/ip4/203.0.113.1/tcp/8000/ws', '/dns4/keeper.example.org/tcp/443/wss'],
      capabilities: KEEPER_CAPABILITIES,
      shards: { clusterId: 16, shards: [32, 64] },
    };
    const enr = createNodeEnr(key, content, 1_800_000_000_000);
    assert.equal(enr.seq, 1_800_000_000n);
    const text = enr.encodeTxt();
    const w = await EnrDecoder.fromString(text);
    assert.equal(w.peerId?.toString(), peerIdFromPrivateKey(key).toString());
    assert.equal(w.ip, '203.0.113.1');
    assert.equal(w.tcp, 60000);
    assert.equal(w.udp, 9000);
    assert.deepEqual(w.waku2, { relay: true, store: true, filter: false, lightPush: false });
    assert.deepEqual(w.multiaddrs?.map(String), content.multiaddrs);
    assert.deepEqual(w.shardInfo, { clusterId: 16, shards: [32, 64] });
    // Unchanged content keeps the record; a changed address re-signs it with a higher seq.
    assert.equal(applyEnrContent(enr, content), false);
    assert.equal(enr.encodeTxt(), text);
    assert.equal(applyEnrContent(enr, { ...content, ip: '203.0.113.9' }), true);
    const after = decodeEnr(enr.encodeTxt());
    assert.ok(after.seq > 1_800_000_000n);
    assert.equal(after.ip, '203.0.113.9');
  });
});

describe('address book: verdicts and the addresses given out', () => {
  const ports = [
    { host: '192.168.1.20', port: 60000, transport: 'tcp' as const },
    { host: '192.168.1.20', port: 8000, transport: 'ws' as const },
  ];

  it('is unknown until checked, public once a stranger dials back, private when dial-backs fail', () => {
    const book = new AddressBook();
    assert.equal(book.verdict(false).reachability, 'unknown');
    assert.equal(book.verdict(true).reachability, 'private', 'seen from outside with nothing mapped or announced: behind a NAT');
    book.setOrigin('upnp', addressesOn('203.0.113.1', ports));
    assert.deepEqual(book.checkable(), ['/ip4/203.0.113.1/tcp/60000', '/ip4/203.0.113.1/tcp/8000/ws']);
    assert.equal(book.verdict(true).reachability, 'unknown');
    assert.deepEqual(book.announced(), ['/ip4/203.0.113.1/tcp/60000', '/ip4/203.0.113.1/tcp/8000/ws'], 'mapped addresses are given out before the check');
    book.record('/ip4/203.0.113.1/tcp/60000', false, 'peerA', 1);
    assert.equal(book.verdict(true).reachability, 'private');
    assert.deepEqual(book.announced(), ['/ip4/203.0.113.1/tcp/8000/ws'], 'a failed address is not given out');
    book.record('/ip4/203.0.113.1/tcp/8000/ws', true, 'peerB', 2);
    assert.equal(book.verdict(true).reachability, 'public');
    assert.equal(book.lastCheckMs(), 2);
    book.resetChecks();
    assert.equal(book.verdict(true).reachability, 'unknown');
  });

  it('merges origins of one address, and observed addresses are given out only once confirmed', () => {
    const book = new AddressBook();
    book.setOrigin('observed', ['/ip4/203.0.113.1/tcp/60000']);
    assert.deepEqual(book.announced(), []);
    book.setOrigin('upnp', ['/ip4/203.0.113.1/tcp/60000']);
    assert.deepEqual(book.list()[0]?.origins, ['observed', 'upnp']);
    book.setOrigin('upnp', []);
    book.record('/ip4/203.0.113.1/tcp/60000', true, 'peerA', 5);
    assert.deepEqual(book.announced(), ['/ip4/203.0.113.1/tcp/60000']);
    assert.equal(book.list()[0]?.checkedBy, 'peerA');
  });

  it('puts the first IPv4 TCP address in ip/tcp and the rest in the multiaddrs field', () => {
    assert.deepEqual(enrAddresses(['/dns4/k.example.org/tcp/60000', '/ip4/203.0.113.1/tcp/60000', '/ip4/203.0.113.1/tcp/8000/ws']), {
      ip: '203.0.113.1',
      tcp: 60000,
      multiaddrs: ['/dns4/k.example.org/tcp/60000', '/ip4/203.0.113.1/tcp/8000/ws'],
    });
    assert.deepEqual(enrAddresses([]), { multiaddrs: [] });
  });
});

describe('router and AutoNAT plumbing', () => {
  it('reads the default gateway from /proc/net/route and picks the LAN address on its network', () => {
    const routes = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n' + 'eth0\t00000000\t010012C6\t0003\t0\t0\t0\t00000000\n';
    assert.equal(defaultGateway(routes), '198.18.0.1');
    assert.throws(() => defaultGateway(''), /no default gateway/);
    const ifs = {
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true, mac: '', cidr: null }],
      eth0: [{ address: '198.18.0.2', netmask: '255.255.255.0', family: 'IPv4', internal: false, mac: '', cidr: null }],
      eth1: [{ address: '10.9.0.5', netmask: '255.255.0.0', family: 'IPv4', internal: false, mac: '', cidr: null }],
    } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
    assert.equal(lanAddressFor('198.18.0.1', ifs), '198.18.0.2');
    assert.equal(lanAddressFor('10.9.255.254', ifs), '10.9.0.5');
  });

  it("writes AutoNAT v1's dial request and reads its responses", async () => {
    const key = await generateKeyPair('secp256k1');
    const id = peerIdFromPrivateKey(key);
    const req = encodeDialRequest(id, [multiaddr('/ip4/203.0.113.1/tcp/60000')]);
    assert.equal(req[0], 0x08);
    assert.equal(req[1], 0x00);
    assert.ok(Buffer.from(req).includes(Buffer.from(multiaddr('/ip4/203.0.113.1/tcp/60000').bytes)));
    // type DIAL_RESPONSE, dialResponse { status E_DIAL_ERROR, statusText "timeout" }
    const dialError = Uint8Array.from([0x08, 0x01, 0x1a, 0x0b, 0x08, 0x64, 0x12, 0x07, ...Buffer.from('timeout')]);
    assert.deepEqual(decodeDialResponse(dialError), { status: 'dial-error', text: 'timeout' });
    assert.deepEqual(decodeDialResponse(Uint8Array.from([0x08, 0x01, 0x1a, 0x02, 0x08, 0x00])), { status: 'ok', text: '' });
    assert.equal(decodeDialResponse(Uint8Array.from([0x08, 0x00])).status, 'unknown');
  });
});

describe('share card', () => {
  it('names the first TCP address in every snippet and the fleets entry is the {"id","enr","addr"} status-go reads', () => {
    const peerId = '16Uiu2HAmLxNJLh8N9JftzEJrjZErrSVVgm1jrDYNEa3TcjZyVgnV';
    const s = buildShare({ peerId, addrs: ['/ip4/203.0.113.1/tcp/8000/ws', '/ip4/203.0.113.1/tcp/60000'], reachable: true, enr: NWAKU_VECTOR, clusterId: 16 });
    const addr = `/ip4/203.0.113.1/tcp/60000/p2p/${peerId}`;
    assert.deepEqual(JSON.parse(s.snippets.fleetsEntry), { id: 'waku-keeper-cjZyVgnV', enr: NWAKU_VECTOR, addr });
    assert.equal(s.snippets.storePeerFlag, `--store-peer ${addr}`);
    // js-waku dials WebSockets: the ws address, allowed in plain ws:// form.
    assert.ok(s.snippets.jsWaku.includes(JSON.stringify(`/ip4/203.0.113.1/tcp/8000/ws/p2p/${peerId}`)));
    assert.ok(s.snippets.jsWaku.includes('filterMultiaddrs: false'));
    const tcpOnly = buildShare({ peerId, addrs: ['/ip4/203.0.113.1/tcp/60000'], reachable: true, enr: NWAKU_VECTOR, clusterId: 16 });
    assert.ok(tcpOnly.snippets.jsWaku.includes('transports: [tcp()]') && tcpOnly.snippets.jsWaku.includes(JSON.stringify(addr)));
    assert.deepEqual(s.multiaddrs, [`/ip4/203.0.113.1/tcp/8000/ws/p2p/${peerId}`, addr]);
  });
});

describe('SSDP search for the home router (IPv4 only, repeated while waiting)', () => {
  const answer = (st: string, location: string): string =>
    ['HTTP/1.1 200 OK', 'CACHE-CONTROL: max-age=120', `ST: ${st}`, 'USN: uuid:x::' + st, `LOCATION: ${location}`, '', ''].join('\r\n');

  it('reads the LOCATION of an answer for the service type, and nothing else', () => {
    assert.equal(locationOf(answer(IGD2, 'http://198.18.0.1:36699/rootDesc.xml'), IGD2)?.href, 'http://198.18.0.1:36699/rootDesc.xml');
    assert.equal(locationOf(answer('urn:schemas-upnp-org:device:MediaServer:1', 'http://198.18.0.1/x.xml'), IGD2), undefined);
    assert.equal(locationOf(answer(IGD2, 'file:///etc/passwd'), IGD2), undefined);
    assert.equal(locationOf(answer(IGD2, 'not a url'), IGD2), undefined);
    assert.equal(locationOf('M-SEARCH * HTTP/1.1\r\nST: ' + IGD2 + '\r\n\r\n', IGD2), undefined);
    assert.match(mSearch(IGD2), /^M-SEARCH \* HTTP\/1\.1\r\nHOST: 239\.255\.255\.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n\r\n$/);
  });

  it('asks again while no answer came: a router that ignores the first search is still found', async () => {
    const router = createSocket('udp4');
    const searches: string[] = [];
    router.on('message', (msg, from) => {
      searches.push(msg.toString());
      // The first datagram is "lost"; the second is answered.
      if (searches.length === 2) router.send(answer(IGD2, 'http://127.0.0.1:5000/rootDesc.xml'), from.port, from.address);
    });
    await new Promise<void>((r) => router.bind(0, '127.0.0.1', () => r()));
    try {
      const url = await searchGateway({ signal: AbortSignal.timeout(5_000), repeatMs: 100, target: { address: '127.0.0.1', port: router.address().port } });
      assert.equal(url.href, 'http://127.0.0.1:5000/rootDesc.xml');
      assert.equal(searches.length, 2);
      assert.ok(searches.every((s) => s.includes(`ST: ${IGD2}`)));
    } finally {
      router.close();
    }
  });

  it('gives up when the time is up, with nothing left open', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      await assert.rejects(searchGateway({ signal: AbortSignal.timeout(300), repeatMs: 50, target: { address: '127.0.0.1', port: silent.address().port } }), /no UPnP gateway answered/);
    } finally {
      silent.close();
    }
  });
});
