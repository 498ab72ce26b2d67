/**
 * GET /store/v3/messages's query parameters, read as nwaku reads them, into a
 * Store v3 request: peerAddr, includeData (default false), pubsubTopic,
 * contentTopics (comma-separated), startTime and endTime (ns; zero or less is
 * no bound), hashes (comma-separated hex), cursor (hex), ascending (forward
 * unless "false" or anything but "true"), pageSize (default 20, at most 100).
 * Values are URL-decoded once more after the query string's own decoding, as
 * nwaku does, so singly and doubly encoded values both work. Pure.
 */
import type { StoreQueryRequest } from '../store/codec.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../store/codec.ts';

export interface StoreParams {
  /** The peer to ask, as given; undefined: this node's own archive. */
  peerAddr: string | undefined;
  request: StoreQueryRequest;
}

export type ParamsResult = { ok: true; value: StoreParams } | { ok: false; error: string };

const INT64_MAX = 2n ** 63n - 1n;
const TRUE = new Set(['y', 'yes', 'true', '1', 'on']);
const FALSE = new Set(['n', 'no', 'false', '0', 'off']);

class ParamError extends Error {}

/** A second URL decoding, lenient as nwaku's: a value that is not valid encoding stays as it is. */
function decodeAgain(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function get(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

function integer(v: string, what: string): bigint {
  if (!/^[+-]?\d+$/.test(v)) throw new ParamError(`${what} parsing error: invalid integer: ${v}`);
  const n = BigInt(v);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw new ParamError(`${what} parsing error: Parsed integer outside of valid range`);
  return n;
}

/** A time bound: only a positive time bounds the query. */
function time(v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const t = integer(v, 'time');
  return t > 0n ? t : undefined;
}

/** A message hash in hex, 0x or not; '' is none. */
export function parseHash(v: string): Uint8Array | undefined {
  if (v === '') return undefined;
  const hex = v.startsWith('0x') || v.startsWith('0X') ? v.slice(2) : v;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ParamError(`Exception converting hex string to bytes: "${v}" is not a hex string`);
  }
  const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  if (bytes.length !== 32) throw new ParamError(`waku message hash parsing error: invalid hash length: ${bytes.length}`);
  return bytes;
}

export function parseStoreParams(q: URLSearchParams, requestId: string): ParamsResult {
  try {
    const includeRaw = get(q, 'includeData');
    let includeData = false;
    if (includeRaw !== undefined) {
      const norm = includeRaw.toLowerCase().replaceAll('_', '');
      if (TRUE.has(norm)) includeData = true;
      else if (!FALSE.has(norm)) throw new ParamError(`include data parsing error: cannot interpret as a bool: ${includeRaw}`);
    }
    const topicRaw = get(q, 'pubsubTopic');
    const pubsubTopic = topicRaw === undefined ? undefined : decodeAgain(topicRaw) || undefined;
    const contentRaw = get(q, 'contentTopics');
    const contentList = contentRaw === undefined ? '' : decodeAgain(contentRaw);
    const contentTopics = contentList === '' ? [] : contentList.split(',');
    const timeStart = time(get(q, 'startTime'));
    const timeEnd = time(get(q, 'endTime'));
    const hashesRaw = get(q, 'hashes');
    const messageHashes = (hashesRaw === undefined ? [] : decodeAgain(hashesRaw).split(','))
      .map(parseHash)
      .filter((h): h is Uint8Array => h !== undefined);
    const cursorRaw = get(q, 'cursor');
    const paginationCursor = cursorRaw === undefined ? undefined : parseHash(decodeAgain(cursorRaw));
    const ascending = get(q, 'ascending');
    const sizeRaw = get(q, 'pageSize');
    let pageSize = BigInt(DEFAULT_PAGE_SIZE);
    if (sizeRaw !== undefined) {
      pageSize = integer(sizeRaw, 'page size');
      if (pageSize < 0n) throw new ParamError(`page size parsing error: invalid integer: ${sizeRaw}`);
      if (pageSize > BigInt(MAX_PAGE_SIZE)) pageSize = BigInt(MAX_PAGE_SIZE);
    }
    const peerRaw = get(q, 'peerAddr');
    return {
      ok: true,
      value: {
        peerAddr: peerRaw === undefined ? undefined : decodeAgain(peerRaw),
        request: {
          requestId,
          includeData,
          pubsubTopic,
          contentTopics,
          timeStart,
          timeEnd,
          messageHashes,
          paginationCursor,
          paginationForward: ascending === undefined || ascending === 'true',
          paginationLimit: pageSize,
        },
      },
    };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, error: err.message };
    throw err;
  }
}
