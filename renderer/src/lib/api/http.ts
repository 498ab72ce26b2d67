/**
 * The dashboard's API over the headless Keeper's local HTTP API: commands are
 * POSTed, status and log entries arrive on one pushed stream (read with fetch,
 * so the token travels in a header, never in a URL).
 */
import type {
  ApiResult,
  Community,
  CommunityRefInput,
  CommunityStorageInput,
  KeeperApi,
  KeeperStatus,
  LogEntry,
  RemoveCommunityInput,
  RemovedCommunities,
  Role,
  SetupInput,
  StorageInput,
} from '../../../../main/contract/contract.ts';

type Listener<T> = (value: T) => void;

export class HttpApi implements KeeperApi {
  private readonly base: string;
  private readonly token: string;
  private readonly statusListeners = new Set<Listener<KeeperStatus>>();
  private readonly logListeners = new Set<Listener<LogEntry>>();
  private streaming: AbortController | undefined;

  constructor(base: string, token: string) {
    this.base = base;
    this.token = token;
  }

  private async call<T>(name: string, arg: unknown = null): Promise<ApiResult<T>> {
    try {
      const res = await fetch(`${this.base}/api/commands/${name}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(arg),
      });
      if (res.status === 401) return { ok: false, error: { code: 'invalid', message: 'The access token was refused: open the dashboard link the node printed.' } };
      return (await res.json()) as ApiResult<T>;
    } catch (err) {
      return { ok: false, error: { code: 'unavailable', message: `Cannot reach the node (${(err as Error).message}).` } };
    }
  }

  getStatus = (): Promise<ApiResult<KeeperStatus>> => this.call('getStatus');
  getLog = (): Promise<ApiResult<LogEntry[]>> => this.call('getLog');
  setup = (input: SetupInput): Promise<ApiResult<null>> => this.call('setup', input);
  setRole = (role: Role): Promise<ApiResult<null>> => this.call('setRole', role);
  previewCommunity = (ref: string): Promise<ApiResult<Community[]>> => this.call('previewCommunity', ref);
  addCommunity = (community: Community | CommunityRefInput): Promise<ApiResult<null>> => this.call('addCommunity', community);
  removeCommunity = (input: string | RemoveCommunityInput): Promise<ApiResult<RemovedCommunities>> => this.call('removeCommunity', input);
  setCommunityStorage = (input: CommunityStorageInput): Promise<ApiResult<null>> => this.call('setCommunityStorage', input);
  addStorePeer = (multiaddr: string): Promise<ApiResult<null>> => this.call('addStorePeer', multiaddr);
  removeStorePeer = (peerId: string): Promise<ApiResult<null>> => this.call('removeStorePeer', peerId);
  setStorage = (input: StorageInput): Promise<ApiResult<null>> => this.call('setStorage', input);
  fillNow = (): Promise<ApiResult<null>> => this.call('fillNow');

  onStatus(listener: Listener<KeeperStatus>): () => void {
    this.statusListeners.add(listener);
    this.ensureStream();
    return () => this.statusListeners.delete(listener);
  }

  onLog(listener: Listener<LogEntry>): () => void {
    this.logListeners.add(listener);
    this.ensureStream();
    return () => this.logListeners.delete(listener);
  }

  /** One stream for all listeners, reconnected with backoff when it drops. */
  private ensureStream(): void {
    if (this.streaming) return;
    const ctrl = new AbortController();
    this.streaming = ctrl;
    void (async () => {
      let delay = 500;
      while (!ctrl.signal.aborted) {
        try {
          const res = await fetch(`${this.base}/api/stream`, { headers: { Authorization: `Bearer ${this.token}` }, signal: ctrl.signal });
          if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
          delay = 500;
          await this.read(res.body);
        } catch {
          if (ctrl.signal.aborted) return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    })();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    // DOM typings give TextDecoderStream a BufferSource input; a byte stream is one.
    const reader = body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  private dispatch(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') return;
    if (event === 'status') for (const l of this.statusListeners) l(JSON.parse(data) as KeeperStatus);
    if (event === 'log') for (const l of this.logListeners) l(JSON.parse(data) as LogEntry);
  }

  close(): void {
    this.streaming?.abort();
    this.streaming = undefined;
  }
}
