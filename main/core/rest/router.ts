/**
 * The REST API's routes and replies: a route is a method and a path pattern
 * whose `{name}` segments are URL-decoded parameters, as nwaku's presto
 * router matches them; a reply is a status, a content type and a body, in
 * nwaku's media types (text/plain for messages, application/json for data).
 */
import { parseJson, toJson } from './json.ts';

export interface Reply {
  status: number;
  contentType: 'text/plain' | 'application/json';
  body: string;
}

export interface RequestBody {
  /** The media type, lower case, without parameters; '' when none was sent. */
  mediaType: string;
  text: string;
}

export interface RestRequest {
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The body, read within the server's bound; undefined when there is none. */
  body: RequestBody | undefined;
}

export type Handler = (req: RestRequest) => Reply | Promise<Reply>;

export interface Route {
  method: string;
  /** e.g. `/relay/v1/messages/{pubsubTopic}` */
  path: string;
  handler: Handler;
}

export function text(status: number, body: string): Reply {
  return { status, contentType: 'text/plain', body };
}

export function json(status: number, value: unknown): Reply {
  return { status, contentType: 'application/json', body: toJson(value) };
}

export const OK = (): Reply => text(200, 'OK');

/** nwaku's answer to a path or method it has no route for. */
export const NO_ROUTE = (): Reply => text(400, 'Bad request initiated. Invalid path or method used.');

/** Path roots of nwaku protocols Keeper does not run: nwaku answers 404 with these words. */
const NOT_AVAILABLE: Readonly<Record<string, string>> = {
  filter: '/filter endpoints are not available.',
  lightpush: '/lightpush endpoints are not available.',
};

export type Match = { handler: Handler; params: Record<string, string> } | { reply: Reply };

/** Finds the route for a request; a parameter that is not valid URL encoding is nwaku's "Invalid request". */
export function match(routes: readonly Route[], method: string, rawPath: string): Match {
  const segments = rawPath.split('/');
  for (const r of routes) {
    if (r.method !== method) continue;
    const pattern = r.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let fits = true;
    for (let i = 0; i < pattern.length && fits; i++) {
      const p = pattern[i] ?? '';
      const s = segments[i] ?? '';
      if (p.startsWith('{') && p.endsWith('}')) {
        if (s.length === 0) fits = false;
        else {
          try {
            params[p.slice(1, -1)] = decodeURIComponent(s);
          } catch {
            return { reply: text(400, 'Invalid request') };
          }
        }
      } else if (p !== s) fits = false;
    }
    if (fits) return { handler: r.handler, params };
  }
  const gone = NOT_AVAILABLE[segments[1] ?? ''];
  return { reply: gone === undefined ? NO_ROUTE() : text(404, gone) };
}

/** The body as JSON, with nwaku's 400s for a missing body, a wrong media type and undecodable JSON. */
export function jsonBody(body: RequestBody | undefined, exactKeys?: ReadonlySet<string>): { ok: true; value: unknown } | { ok: false; reply: Reply } {
  if (body === undefined || body.text.length === 0) return { ok: false, reply: text(400, 'Missing content body') };
  if (body.mediaType !== 'application/json' && body.mediaType !== 'text/plain') {
    return { ok: false, reply: text(400, 'Wrong Content-Type, expected application/json or text/plain') };
  }
  try {
    return { ok: true, value: parseJson(body.text, exactKeys) };
  } catch (err) {
    return { ok: false, reply: undecodable((err as Error).message) };
  }
}

/** nwaku's words for a body it could not read. */
export function undecodable(why: string): Reply {
  return text(400, `Invalid content body, could not decode: Unable to deserialize data: ${why}`);
}
