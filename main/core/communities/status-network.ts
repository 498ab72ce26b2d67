/**
 * The Status network as it runs (DESIGN §3): its cluster, the shards its
 * communities use, and the fleet's node list for DNS discovery.
 */
import { shardTopic } from '../message/topics.ts';

/** Status communities live on cluster 16. */
export const STATUS_CLUSTER_ID = 16;
/** Default shard, default shard, community control, community content (DESIGN §3). */
export const STATUS_SHARDS = [32, 64, 128, 256] as const;

export const STATUS_PUBSUB_TOPICS: readonly string[] = STATUS_SHARDS.map((s) => shardTopic(STATUS_CLUSTER_ID, s));

/** status.prod's node list (EIP-1459), as status-go uses it. */
export const STATUS_ENRTREE =
  'enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im';
