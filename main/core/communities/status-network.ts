/**
 * The Status network as it runs (DESIGN §3): its cluster, the shards its
 * communities use, and the fleet's node list for DNS discovery.
 */
import { shardTopic } from '../message/topics.ts';

/** Status communities live on cluster 16. */
export const STATUS_CLUSTER_ID = 16;
/**
 * The shards a Status community's traffic uses (status-go, 2026): 32, where
 * every community now lives (static community shards were removed in #7121,
 * the 128/256 experiment in #7404), and 64, which carries community control
 * messages until its retirement completes (#7498: clients publish control on
 * 32 since app 2.40 and still listen on 64 until phase 3).
 */
export const STATUS_SHARDS = [32, 64] as const;

export const STATUS_PUBSUB_TOPICS: readonly string[] = STATUS_SHARDS.map((s) => shardTopic(STATUS_CLUSTER_ID, s));

/** status.prod's node list (EIP-1459), as status-go uses it. */
export const STATUS_ENRTREE =
  'enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im';

/** The fleet's nwaku cap on an encoded message (`max-msg-size = 1024KiB`): Status images are larger than 150 KiB. */
export const STATUS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The fleet's protected shards (`nim_waku_protected_topics`): a message there
 * must carry a signature by the shard's key. Uncompressed public keys, hex.
 */
export const STATUS_PROTECTED_SHARDS: readonly { shard: number; publicKey: string }[] = [
  { shard: 1, publicKey: '0461747a1b31c242d5d116baec75d6c2add6335aead6092ab2fa7eeaacd8fc9af2905207ebff8eed1c52e7c67ffa31ec830448e6c91524acdde6073f7c488db7c0' },
  { shard: 128, publicKey: '045ced3b90fabf7673c5165f9cc3a038fd2cfeb96946538089c310b5eaa3a611094b27d8216d9ec8110bd0e0e9fa7a7b5a66e86a27954c9d88ebd41d0ab6cfbb91' },
  { shard: 256, publicKey: '049022b33f7583f34463f5b7622e5da29f99f993e6858a478465c68ee114ccf142204eff285ed922349c4b71b178a2e1a2154b99bcc2d8e91b3994626ffa9f1a6c' },
];
