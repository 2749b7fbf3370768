import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The headers a 'status' fault's answer carries. */
export function faultHeaders(f: Fault): Record<string, string> {
  return f.retryAfterSeconds === undefined ? {} : { 'retry-after': String(f.retryAfterSeconds) };
}

/** A fault injected into the next matching requests (tests and the demo's "what if" runs). */
export interface Fault {
  /** substring of "METHOD path" the fault applies to; empty matches every request */
  match: string;
  /** drop: the connection is cut before the request is handled; drop-after: handled (a job may be created), then cut before the answer */
  kind: 'status' | 'drop' | 'drop-after' | 'slow' | 'malformed' | 'drop-mid-body';
  status?: number;
  /** with kind 'status': the answer carries `Retry-After: <n>`, as a throttling server may send */
  retryAfterSeconds?: number;
  delayMs?: number;
  /** how many requests it applies to */
  times: number;
}

export class FaultQueue {
  private faults: Fault[] = [];

  add(f: Fault): void {
    this.faults.push({ ...f });
  }

  clear(): void {
    this.faults = [];
  }

  take(method: string, path: string): Fault | undefined {
    const key = `${method} ${path}`;
    const f = this.faults.find((x) => x.times > 0 && key.includes(x.match));
    if (f) f.times--;
    return f;
  }
}

/** An HTTP stand-in on loopback: start on a port (0: a free one), stop at once. */
export abstract class LoopbackService {
  private server: Server | undefined;
  url = '';

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** the answer to a request whose handler threw */
  protected abstract internalError(res: ServerResponse, e: Error): void;

  /** how long an idle keep-alive connection stays open (Node's default, 5 s, when undefined) */
  protected keepAliveMs: number | undefined;

  protected async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.internalError(res, e as Error);
        else res.destroy();
      });
    });
    if (this.keepAliveMs !== undefined) server.keepAliveTimeout = this.keepAliveMs;
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
    this.server = server;
    this.url = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  /** Closes at once, cutting open connections as a dying service would. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
