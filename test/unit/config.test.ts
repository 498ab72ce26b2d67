import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, parseCli, parseDuration, parseHostPort, parseSize } from '../../main/core/settings/config.ts';
import { ConfigError } from '../../main/core/util/errors.ts';
import { DAY_MS } from '../../main/core/util/time.ts';
import { defaultDataDir } from '../../main/core/settings/paths.ts';

const PEER = '/ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAmSYDMqbqJQxZVc8niDBwxTaJeMzs98szZBEBotvvjDayZ';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.field;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('runs with the Status defaults when given no flags', () => {
    const r = parseCli([]);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    // status-go (2026) puts community traffic on 32, and control on 64 until that shard is retired.
    assert.deepEqual(r.config.pubsubTopics, ['/waku/2/rs/16/32', '/waku/2/rs/16/64']);
    assert.equal(r.config.clusterId, 16);
    assert.equal(r.config.retentionMs, 30 * DAY_MS);
    assert.equal(r.config.discovery, true);
    assert.equal(r.config.fillQuorum, 2);
    assert.deepEqual(r.config.api, { host: '127.0.0.1', port: 8647 });
  });

  it('reads every flag of DESIGN §5', () => {
    const r = parseCli([
      '--data-dir', '/tmp/x',
      '--pubsub-topic', '/waku/2/rs/1/0',
      '--content-topic', '/app/1/chat/proto',
      '--listen', '/ip4/127.0.0.1/tcp/0',
      '--peer', PEER,
      '--store-peer', PEER,
      '--fill-quorum', '3',
      '--retention', '7d',
      '--quota', '2GiB',
      '--api', '127.0.0.1:0',
      '--no-discovery',
    ]);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.deepEqual(
      { ...r.config, storeRateLimit: undefined, retentionIntervalMs: undefined },
      {
        ...defaultConfig(),
        storeRateLimit: undefined,
        retentionIntervalMs: undefined,
        dataDir: '/tmp/x',
        pubsubTopics: ['/waku/2/rs/1/0'],
        contentTopics: ['/app/1/chat/proto'],
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: [PEER],
        storePeers: [PEER],
        fillQuorum: 3,
        retentionMs: 7 * DAY_MS,
        quotaBytes: 2 * 1024 ** 3,
        api: { host: '127.0.0.1', port: 0 },
        discovery: false,
        clusterId: 1,
        explicit: ['quotaBytes', 'retentionMs'],
      },
    );
  });

  const bad: [string[], string][] = [
    [['--bogus'], '--bogus'],
    [['--fill-quorum', '0'], '--fill-quorum'],
    [['--fill-quorum', 'two'], '--fill-quorum'],
    [['--retention', '30'], '--retention'],
    [['--retention', '0d'], '--retention'],
    [['--quota', 'lots'], '--quota'],
    [['--quota', '10KB'], '--quota'],
    [['--api', 'localhost'], '--api'],
    [['--api', '127.0.0.1:70000'], '--api'],
    [['--pubsub-topic', 'foo'], '--pubsub-topic'],
    [['--pubsub-topic', '/waku/2/rs/16/32', '--pubsub-topic', '/waku/2/rs/1/0'], '--pubsub-topic'],
    [['--content-topic', ''], '--content-topic'],
    [['--max-message-size', '10B'], '--max-message-size'],
    [['--protected-shard', '128:nothex'], '--protected-shard'],
    [['--rest', 'nowhere'], '--rest'],
    [['--peer', '/ip4/127.0.0.1/tcp/1'], '--peer'],
    [['--store-peer', 'not-an-address'], '--store-peer'],
    [['--listen', 'nope'], '--listen'],
    [['--data-dir'], '--data-dir'],
    [['--heartbeat', '10ms'], '--heartbeat'],
    [['--fill-interval', '1s'], '--fill-interval'],
    [['--check-interval', 'soon'], '--check-interval'],
    [['--keepers-announce-interval', '1s'], '--keepers-announce-interval'],
    // The settle time must span the clock margin and a heartbeat, or relay's newest stretch would count before it settled.
    [['--settle', '5s'], '--settle'],
    [['--settle', '2s', '--clock-margin', '1s', '--heartbeat', '2s'], '--settle'],
    [['--clock-margin', 'never'], '--clock-margin'],
    [['--community', 'https://status.app/u#zQ3shwQPhRuDJSjVGVBnTjCdgXy5i9WQaeVPdGJD6yTarJQSj'], '--community'],
    [['--community', 'zQ3shNZQnGqtqxokGkoVtFWnG9v6TJT43E3rfPxzc1eHqx3qJ'], '--community'],
    [['--community', '0x02a3'], '--community'],
    [['--community', 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11', '--pubsub-topic', '/waku/2/rs/1/0'], '--community'],
    [['--store-sync=maybe'], '--store-sync'],
    [['--store-sync-range', '0'], '--store-sync-range'],
    [['--store-sync-range', 'an hour'], '--store-sync-range'],
    [['--store-sync-relay-jitter', '-1'], '--store-sync-relay-jitter'],
    [['--settle', '30s', '--store-sync-relay-jitter', '20'], '--store-sync-relay-jitter'],
    // Two names for one interval must not disagree.
    [['--check-interval', '1m', '--store-sync-interval', '300'], '--store-sync-interval'],
  ];
  for (const [argv, field] of bad) {
    it(`refuses ${argv.join(' ')} naming ${field}`, () => assert.equal(fieldOf(() => parseCli(argv)), field));
  }

  it('takes --community as often as given, by link, key or id', () => {
    const r = parseCli(['--community', 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11', '--community', ' 0x02b84843377a24ff498b6c37bd63e2b285c1ee2ccbab82d7a4afa25fff8c5076df ']);
    assert.ok(r.kind === 'run');
    assert.deepEqual(r.config.communityRefs, ['zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11', '0x02b84843377a24ff498b6c37bd63e2b285c1ee2ccbab82d7a4afa25fff8c5076df']);
    const none = parseCli([]);
    assert.ok(none.kind === 'run' && none.config.communityRefs.length === 0, 'no community: everything on the relayed topics is kept');
  });

  it("takes nwaku's store-sync flags as nwaku writes them: on by default here, seconds as plain numbers", () => {
    const d = parseCli([]);
    assert.ok(d.kind === 'run');
    assert.equal(d.config.storeSync, true);
    assert.equal(d.config.storeSyncRangeMs, 3_600_000);
    assert.equal(d.config.settleMs, 30_000);
    assert.equal(d.config.checkIntervalMs, 300_000);
    const off = parseCli(['--store-sync=false']);
    assert.ok(off.kind === 'run' && off.config.storeSync === false);
    const spaced = parseCli(['--store-sync', 'false', '--no-discovery']);
    assert.ok(spaced.kind === 'run' && spaced.config.storeSync === false && !spaced.config.discovery);
    const bare = parseCli(['--store-sync', '--no-discovery']);
    assert.ok(bare.kind === 'run' && bare.config.storeSync === true && !bare.config.discovery);
    const r = parseCli(['--store-sync=true', '--store-sync-interval=120', '--store-sync-range=7200', '--store-sync-relay-jitter=40']);
    assert.ok(r.kind === 'run');
    assert.equal(r.config.checkIntervalMs, 120_000);
    assert.equal(r.config.storeSyncRangeMs, 7_200_000);
    assert.equal(r.config.settleMs, 40_000);
    const units = parseCli(['--store-sync-range', '2h', '--store-sync-interval', '1m', '--check-interval', '60s']);
    assert.ok(units.kind === 'run' && units.config.storeSyncRangeMs === 7_200_000 && units.config.checkIntervalMs === 60_000);
  });

  it('parses durations, sizes and addresses', () => {
    assert.equal(parseDuration('x', '90s'), 90_000);
    assert.equal(parseDuration('x', '1.5h'), 5_400_000);
    assert.equal(parseSize('x', '10GB'), 10e9);
    assert.equal(parseSize('x', '500 MiB'), 500 * 1024 ** 2);
    assert.deepEqual(parseHostPort('x', '[::1]:8647'), { host: '::1', port: 8647 });
    const r = parseCli(['--heartbeat', '2s', '--fill-interval', '30m', '--check-interval', '1m']);
    assert.ok(r.kind === 'run' && r.config.heartbeatMs === 2000 && r.config.fillIntervalMs === 1_800_000 && r.config.checkIntervalMs === 60_000);
    const t = parseCli(['--settle', '1s', '--clock-margin', '300ms', '--heartbeat', '200ms']);
    assert.ok(t.kind === 'run' && t.config.settleMs === 1000 && t.config.clockMarginMs === 300);
    const k = parseCli(['--keepers-announce-interval', '2m']);
    assert.ok(k.kind === 'run' && k.config.keepersAnnounceIntervalMs === 120_000);
    const d = parseCli([]);
    assert.ok(d.kind === 'run' && d.config.keepersAnnounceIntervalMs === 300_000);
  });

  it('puts data where each OS expects it', () => {
    assert.equal(defaultDataDir({ HOME: '/h' }, 'linux'), '/h/.local/share/waku-keeper');
    assert.equal(defaultDataDir({ HOME: '/h', XDG_DATA_HOME: '/x' }, 'linux'), '/x/waku-keeper');
    assert.equal(defaultDataDir({ HOME: '/h' }, 'darwin'), '/h/Library/Application Support/waku-keeper');
    assert.equal(defaultDataDir({ HOME: 'C:\\h', APPDATA: 'C:\\a' }, 'win32').replaceAll('\\', '/'), 'C:/a/waku-keeper');
  });
});
