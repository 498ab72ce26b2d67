/**
 * The node's libp2p identity: a secp256k1 key (as Waku's ENRs use), created on
 * first start and kept in the data dir so the peer id survives restarts.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';

export const IDENTITY_FILE = 'node-key';

export async function loadOrCreateIdentity(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, IDENTITY_FILE);
  if (existsSync(path)) {
    try {
      return privateKeyFromProtobuf(readFileSync(path));
    } catch (err) {
      throw new Error(`the node key ${path} is unreadable (${(err as Error).message}); move it away to start with a new identity`);
    }
  }
  const key = await generateKeyPair('secp256k1');
  writeFileAtomic(path, privateKeyToProtobuf(key), { mode: 0o600 });
  return key;
}
