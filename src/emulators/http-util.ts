import type { IncomingMessage, ServerResponse } from 'node:http';

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

/** A fault injected into the next matching requests (tests and the demo's "what if" runs). */
export interface Fault {
  /** substring of "METHOD path" the fault applies to; empty matches every request */
  match: string;
  kind: 'status' | 'drop' | 'slow' | 'malformed' | 'drop-mid-body';
  status?: number;
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
