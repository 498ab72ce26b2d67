/** The `--help` text: every flag, its meaning and its default, as the README's Options table has them. */
export const USAGE = `Usage: waku-keeper [options]

Keeps a Status community's Waku message history: relays its shards, archives
them in SQLite and serves them over Waku Store v3. With no options it runs on
the Status shards of cluster 16 with its data in the user's data directory.

  --data-dir DIR            where the archive, node key and API token live
  --pubsub-topic T          pubsub topic to relay and archive (repeatable;
                            default: /waku/2/rs/16/{32,64}, the Status communities')
  --content-topic C         archive only these content topics (repeatable)
  --community LINK|KEY|ID   keep a Status community: its link (https://status.app/c/…#zQ3…),
                            key (zQ3…) or id (0x…); its shards and content topics are
                            derived and kept from now on (repeatable). With none, every
                            content topic on the relayed pubsub topics is kept
  --listen MULTIADDR        listen address (repeatable; default tcp 60000, ws 8000)
  --peer MULTIADDR          dial and relay with this peer (repeatable)
  --store-peer MULTIADDR    also ask this peer for history (repeatable)
  --fill-quorum N           peers that must agree before history counts as filled (default 2)
  --retention DURATION      keep messages this long (default 30d)
  --quota SIZE              disk the archive may use (default 10GB)
  --api HOST:PORT           local API and dashboard (default 127.0.0.1:8647)
  --heartbeat DURATION      uptime heartbeat (default 10s)
  --fill-interval DURATION  how often gaps are filled (default 10m; also at start
                            and when relay peers come back)
  --check-interval DURATION how often the consistency check runs: Waku Sync with
                            peers that speak it, hash lists with the rest (default 5m)
  --store-sync[=true|false] Waku Sync (nwaku's flag): answer reconciliation and sync
                            with peers that speak it (default true; nwaku's: false)
  --store-sync-interval N   nwaku's name for --check-interval, in seconds (300)
  --store-sync-range N      seconds synced with a peer that is not a Keeper (default
                            3600, nwaku's hour); Keepers sync the retention window
  --store-sync-relay-jitter N
                            nwaku's name for --settle, in seconds (nwaku's default 20 is
                            below Keeper's floor, the clock margin and a heartbeat: 30)
  --keepers-announce-interval DURATION
                            how often this Keeper announces itself to each
                            kept community (default 5m; sooner on change)
  --store-rate N            Store v3 requests per second one peer may make
                            (default 50, bursts of 4 s worth)
  --max-message-size SIZE   the most an encoded message may weigh (default 1MiB
                            on cluster 16, as the Status fleet; 150KiB elsewhere)
  --protected-shard SHARD:PUBKEY
                            messages on this shard must be signed by this key
                            (repeatable; default on cluster 16: the Status fleet's
                            shards 1, 128 and 256)
  --rest HOST:PORT          nwaku's REST API (off by default; no token, as nwaku's)
  --settle DURATION         leave the newest stretch this long before gap filling and
                            checks touch it: relay may still deliver into it (default 30s)
  --clock-margin DURATION   how far a message's timestamp may be from when relay
                            delivered it: online time counts as held this far inside
                            its ends (default 20s, relay's tolerance)
  --store-idle-timeout DURATION
                            close a Store v3 stream that stalls this long (default 30s)
  --nat any|upnp|pmp|extip:IP|none
                            how the public address is found (nwaku's flag): map the
                            ports by UPnP or NAT-PMP (any tries both), take IP as it
                            is, or map nothing (default any)
  --announce MULTIADDR      also announce this address, e.g. /ip4/203.0.113.7/tcp/60000
                            (repeatable; no /p2p/)
  --dns4-domain NAME        a DNS name resolving to this node: announced with its ports
  --discv5-udp-port PORT    discv5's UDP port (default 9000)
  --discv5-bootstrap ENR    discv5 starts from this node (repeatable; default: the
                            Status fleet's nodes from DNS discovery)
  --no-discovery            no DNS discovery, peer exchange or discv5: static peers only
                            (discv5 still runs when --discv5-bootstrap is given)
  --help                    this text
  --version                 the version
`;
