/**
 * Answers one Store v3 request frame from the archive. Every answer carries a
 * status code, a non-empty request id and a non-empty description.
 */
import type { Archive } from '../archive/archive.ts';
import type { ArchivePage } from '../archive/types.ts';
import type { ResponseFields, StoreQueryRequest } from './codec.ts';
import { decodeRequest, StoreStatus } from './codec.ts';
import { planQuery, UNKNOWN_REQUEST_ID } from './query.ts';
import type { QueryPlan } from './query.ts';
import type { Uint8ArrayList } from 'uint8arraylist';
import { errorMessage } from '../util/errors.ts';

export function statusResponse(requestId: string, statusCode: number, statusDesc: string): ResponseFields {
  return { requestId: requestId.length > 0 ? requestId : UNKNOWN_REQUEST_ID, statusCode, statusDesc };
}

/** Decodes and answers one request frame; an undecodable frame gets 400. */
export function answerFrame(archive: Archive, frame: Uint8Array | Uint8ArrayList): ResponseFields {
  const decoded = decodeFrame(frame);
  return decoded.ok ? answerRequest(archive, decoded.request) : decoded.response;
}

export function decodeFrame(
  frame: Uint8Array | Uint8ArrayList,
): { ok: true; request: StoreQueryRequest } | { ok: false; response: ResponseFields } {
  try {
    return { ok: true, request: decodeRequest(frame) };
  } catch (err) {
    return { ok: false, response: statusResponse(UNKNOWN_REQUEST_ID, StoreStatus.BAD_REQUEST, `undecodable request: ${errorText(err)}`) };
  }
}

export function answerRequest(archive: Archive, req: StoreQueryRequest): ResponseFields {
  const planned = planQuery(req);
  if (!planned.ok) return statusResponse(req.requestId, planned.status, planned.desc);
  try {
    return answerPlan(archive, req.requestId, planned.plan);
  } catch (err) {
    return statusResponse(req.requestId, StoreStatus.BAD_RESPONSE, `archive error: ${errorText(err)}`);
  }
}

export function answerPlan(archive: Archive, requestId: string, plan: QueryPlan): ResponseFields {
  let cursor;
  if (plan.cursorHash !== undefined) {
    // nwaku's words: clients and test suites match on "cursor not found".
    if (plan.cursorHash.length !== 32) {
      return statusResponse(requestId, StoreStatus.BAD_RESPONSE, `archive error: invalid cursor hash length: ${plan.cursorHash.length}`);
    }
    cursor = archive.positionOf(plan.cursorHash);
    if (cursor === undefined) {
      return statusResponse(requestId, StoreStatus.BAD_RESPONSE, 'archive error: cursor not found');
    }
  }
  const page: ArchivePage = archive.query({
    includeData: plan.includeData,
    pubsubTopic: plan.pubsubTopic,
    contentTopics: plan.contentTopics,
    timeStart: plan.timeStart,
    timeEnd: plan.timeEnd,
    hashes: plan.hashes,
    cursor,
    forward: plan.forward,
    limit: plan.limit,
  });
  const rows = page.rows;
  // Forward pages hand back their last entry as the cursor, backward pages their first.
  const edge = plan.forward ? rows[rows.length - 1] : rows[0];
  return {
    requestId,
    statusCode: StoreStatus.OK,
    statusDesc: 'OK',
    messages: rows.map((r) => ({
      hash: r.hash,
      message: plan.includeData ? r.message : undefined,
      pubsubTopic: plan.includeData ? r.pubsubTopic : undefined,
    })),
    cursor: page.more && edge !== undefined ? edge.hash : undefined,
  };
}

export function errorText(err: unknown): string {
  const text = errorMessage(err);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
