import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import { decodeResponse, encodeRequest } from '../../main/core/store/codec.ts';
import { RateLimiter } from '../../main/core/util/rate-limit.ts';
import { StoreServer } from '../../main/core/store/server.ts';
import type { ServedRequest } from '../../main/core/store/server.ts';
import { series } from '../helpers/messages.ts';

describe('rate limiter', () => {
  it('allows a burst of `capacity`, then refills at `perSecond`', () => {
    let now = 0;
    const limiter = new RateLimiter({ capacity: 3, perSecond: 2 }, () => now);
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('p')), [true, true, true, false]);
    now = 499;
    assert.equal(limiter.take('p'), false);
    now = 500;
    assert.equal(limiter.take('p'), true);
    assert.equal(limiter.take('other'), true, 'buckets are per peer');
  });
});

describe('store server answers', () => {
  const request = encodeRequest({ requestId: 'abc', paginationForward: true, includeData: false });

  it('rate limits one abusive peer with 429 while another is served', () => {
    const archive = Archive.open(':memory:');
    archive.insert(series(5, 1_760_000_000_000_000_000n));
    const served: ServedRequest[] = [];
    const server = new StoreServer(archive, { rateLimit: { capacity: 2, perSecond: 0.001 }, onServed: (s) => served.push(s) });
    const codes = [1, 2, 3].map(() => decodeResponse(server.respond('abuser', request)));
    assert.deepEqual(codes.map((r) => r.statusCode), [200, 200, 429]);
    assert.equal(codes[2]?.requestId, 'abc', '429 echoes the request id');
    assert.match(codes[2]?.statusDesc ?? '', /rate limit/);
    assert.equal(decodeResponse(server.respond('polite', request)).statusCode, 200);
    assert.deepEqual(served.map((s) => s.status), [200, 200, 429, 200]);
    archive.close();
  });

  it('answers 503 while unavailable and when the archive is closed', () => {
    const archive = Archive.open(':memory:');
    const server = new StoreServer(archive);
    server.available = false;
    assert.equal(decodeResponse(server.respond('p', request)).statusCode, 503);
    server.available = true;
    assert.equal(decodeResponse(server.respond('p', request)).statusCode, 200);
    archive.close();
    assert.equal(decodeResponse(server.respond('p', request)).statusCode, 503);
  });

  it('answers garbage with 400 and a non-empty request id', () => {
    const archive = Archive.open(':memory:');
    const res = decodeResponse(new StoreServer(archive).respond('p', new Uint8Array([0xff, 0xff])));
    assert.equal(res.statusCode, 400);
    assert.equal(res.requestId, 'N/A');
    archive.close();
  });
});
