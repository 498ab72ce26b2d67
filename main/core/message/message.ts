/**
 * A WakuMessage as Keeper holds it: checked, hashed (14/WAKU2-MESSAGE), and
 * kept as the bytes it arrived as, so it is served exactly as received.
 */
export interface ArchiveMessage {
  hash: Uint8Array;
  pubsubTopic: string;
  contentTopic: string;
  timestamp: bigint;
  /** The encoded WakuMessage, served as it is. */
  message: Uint8Array;
  receivedAtMs?: number;
}
