import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir, readFile, rm, writeFile, rename, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CRC32C } from '@google-cloud/storage';
import { FaultQueue, LoopbackService, faultHeaders, readBody, sendJson, type Fault } from './http-util.js';

/**
 * A small stand-in for Google Cloud Storage speaking the subset of the JSON API that
 * @google-cloud/storage uses here: bucket get; object insert (media, multipart, resumable with
 * chunked PUTs, Content-Range and 308); metadata with generation, size, md5Hash and crc32c;
 * download (alt=media and the public /bucket/object path); delete; object ACLs; and the
 * ifGenerationMatch precondition (412). Bytes and metadata live on disk, so a restarted emulator
 * keeps its objects. It follows Google's documentation, not Google's code.
 *
 * Access: requests carrying `x-goog-api-client` come from the storage client and act as the
 * project owner (like Application Default Credentials). Anything else is anonymous and may read
 * only objects whose ACL grants allUsers READER, or present a bearer token the bucket grants
 * (how Leanplum's own account is simulated).
 */
export interface GcsEmulatorOptions {
  dataDir: string;
  /** bucket name → bearer tokens granted read access besides the owner */
  buckets: Record<string, { readers?: string[] }>;
  host?: string;
  port?: number;
}

interface ObjectMeta {
  kind: 'storage#object';
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  size: string;
  md5Hash: string;
  crc32c: string;
  contentType: string;
  timeCreated: string;
  updated: string;
  acl: { entity: string; role: string }[];
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  ifGenerationMatch: string | undefined;
  received: number;
  file: string;
}

const SUBSET_NOTE = 'gcs-emulator: not implemented';

function gcsError(res: ServerResponse, code: number, message: string, reason = 'invalid', headers: Record<string, string> = {}): void {
  sendJson(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }] } }, headers);
}

export class GcsEmulator extends LoopbackService {
  private objects = new Map<string, ObjectMeta>();
  private sessions = new Map<string, Session>();
  readonly faults = new FaultQueue();
  /** every request, for tests that check what the client actually sent */
  readonly log: { method: string; path: string; status?: number; range?: string }[] = [];

  constructor(private readonly opts: GcsEmulatorOptions) {
    super();
  }

  private key(bucket: string, name: string): string {
    return `${bucket}/${name}`;
  }

  private blobPath(bucket: string, name: string): string {
    return join(this.opts.dataDir, 'blobs', encodeURIComponent(bucket), encodeURIComponent(name));
  }

  private async persist(): Promise<void> {
    const tmp = join(this.opts.dataDir, `meta.json.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify({ objects: [...this.objects.values()], sessions: [...this.sessions.entries()] }));
    await rename(tmp, join(this.opts.dataDir, 'meta.json'));
  }

  async start(): Promise<string> {
    await mkdir(join(this.opts.dataDir, 'blobs'), { recursive: true });
    await mkdir(join(this.opts.dataDir, 'sessions'), { recursive: true });
    const metaFile = join(this.opts.dataDir, 'meta.json');
    if (existsSync(metaFile)) {
      const saved = JSON.parse(await readFile(metaFile, 'utf8')) as { objects: ObjectMeta[]; sessions: [string, Session][] };
      for (const o of saved.objects) this.objects.set(this.key(o.bucket, o.name), o);
      for (const [id, s] of saved.sessions) this.sessions.set(id, s);
    }
    return this.listen(this.opts.port, this.opts.host);
  }

  protected internalError(res: ServerResponse, e: Error): void {
    gcsError(res, 500, `gcs-emulator: ${e.message}`, 'backendError');
  }

  /** Test helper: the stored object, as the server holds it. */
  async read(bucket: string, name: string): Promise<{ meta: ObjectMeta; data: Buffer } | undefined> {
    const meta = this.objects.get(this.key(bucket, name));
    if (!meta) return undefined;
    return { meta, data: await readFile(this.blobPath(bucket, name)) };
  }

  listObjects(bucket?: string): ObjectMeta[] {
    return [...this.objects.values()].filter((o) => bucket === undefined || o.bucket === bucket);
  }

  private isOwner(req: IncomingMessage): boolean {
    return req.headers['x-goog-api-client'] !== undefined;
  }

  private canRead(req: IncomingMessage, meta: ObjectMeta): boolean {
    if (this.isOwner(req)) return true;
    if (meta.acl.some((a) => a.entity === 'allUsers' && (a.role === 'READER' || a.role === 'OWNER'))) return true;
    const auth = req.headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    return token !== undefined && (this.opts.buckets[meta.bucket]?.readers ?? []).includes(token);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const entry: { method: string; path: string; status?: number; range?: string } = { method, path: url.pathname + url.search };
    if (req.headers['content-range'] !== undefined) entry.range = String(req.headers['content-range']);
    this.log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));

    if (url.pathname === '/_emulator/faults' && method === 'POST') {
      this.faults.add(JSON.parse((await readBody(req)).toString()) as Fault);
      return sendJson(res, 200, { ok: true });
    }
    if (url.pathname === '/_emulator/objects' && method === 'GET') return sendJson(res, 200, this.listObjects());

    const fault = this.faults.take(method, url.pathname + url.search);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === 'status') {
      await readBody(req);
      return gcsError(res, fault.status ?? 503, 'injected fault', 'backendError', faultHeaders(fault));
    }

    let path = url.pathname;
    const upload = path.startsWith('/upload/');
    path = path.replace(/^\/upload/, '').replace(/^\/storage\/v1/, '');
    let m: RegExpExecArray | null;
    if (upload && (m = /^\/b\/([^/]+)\/o$/.exec(path))) return this.insert(req, res, decodeURIComponent(m[1]!), url, fault);
    if ((m = /^\/b\/([^/]+)$/.exec(path)) && method === 'GET') {
      const bucket = decodeURIComponent(m[1]!);
      if (!(bucket in this.opts.buckets)) return gcsError(res, 404, `The specified bucket does not exist: ${bucket}`, 'notFound');
      return sendJson(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket, location: 'EMULATOR', storageClass: 'STANDARD' });
    }
    if ((m = /^\/b\/([^/]+)\/o$/.exec(path)) && method === 'GET' && !upload) return this.list(req, res, decodeURIComponent(m[1]!), url);
    if ((m = /^\/b\/([^/]+)\/o\/(.+?)\/acl(?:\/([^/]+))?$/.exec(path)))
      return this.acl(req, res, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3] && decodeURIComponent(m[3]));
    if ((m = /^\/b\/([^/]+)\/o\/(.+)$/.exec(path))) return this.object(req, res, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), url);
    // the public, XML-API-style path: /bucket/object
    if ((m = /^\/([^/_][^/]*)\/(.+)$/.exec(url.pathname)) && method === 'GET') {
      const meta = this.objects.get(this.key(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)));
      if (!meta) return gcsError(res, 404, 'No such object', 'notFound');
      if (!this.canRead(req, meta)) return gcsError(res, 403, 'Anonymous caller does not have storage.objects.get access', 'forbidden');
      return this.sendMedia(res, meta);
    }
    return gcsError(res, 501, `${SUBSET_NOTE}: ${method} ${url.pathname}`, 'notImplemented');
  }

  /** objects.list: by name, with prefix, maxResults and pageToken (an opaque offset), owner only. */
  private list(req: IncomingMessage, res: ServerResponse, bucket: string, url: URL): void {
    if (!(bucket in this.opts.buckets)) return gcsError(res, 404, `The specified bucket does not exist: ${bucket}`, 'notFound');
    if (!this.isOwner(req)) return gcsError(res, 401, 'Anonymous caller', 'required');
    const prefix = url.searchParams.get('prefix') ?? '';
    const all = [...this.objects.values()]
      .filter((o) => o.bucket === bucket && o.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const from = Number(url.searchParams.get('pageToken') ?? 0);
    const max = Math.min(Number(url.searchParams.get('maxResults') ?? 1000) || 1000, 1000);
    const items = all.slice(from, from + max);
    return sendJson(res, 200, { kind: 'storage#objects', items, ...(from + max < all.length ? { nextPageToken: String(from + max) } : {}) });
  }

  private async sendMedia(res: ServerResponse, meta: ObjectMeta): Promise<void> {
    const data = await readFile(this.blobPath(meta.bucket, meta.name));
    res.writeHead(200, {
      'content-type': meta.contentType,
      'content-length': data.length,
      'x-goog-hash': `crc32c=${meta.crc32c},md5=${meta.md5Hash}`,
      'x-goog-generation': meta.generation,
      'x-goog-stored-content-encoding': 'identity',
      'x-goog-stored-content-length': String(data.length),
    });
    res.end(data);
  }

  private async object(req: IncomingMessage, res: ServerResponse, bucket: string, name: string, url: URL): Promise<void> {
    const k = this.key(bucket, name);
    const meta = this.objects.get(k);
    const method = req.method ?? 'GET';
    if (!(bucket in this.opts.buckets)) return gcsError(res, 404, `The specified bucket does not exist: ${bucket}`, 'notFound');
    if (!meta) return gcsError(res, 404, `No such object: ${bucket}/${name}`, 'notFound');
    if (!this.isOwner(req) && method !== 'GET') return gcsError(res, 401, 'Anonymous caller', 'required');
    if (method === 'GET') {
      if (!this.canRead(req, meta)) return gcsError(res, 403, 'caller does not have storage.objects.get access', 'forbidden');
      // a read pinned to a generation that is no longer live finds nothing (no versioning here)
      const generation = url.searchParams.get('generation');
      if (generation !== null && generation !== meta.generation) return gcsError(res, 404, `No such object: ${bucket}/${name}#${generation}`, 'notFound');
      if (url.searchParams.get('alt') === 'media') return this.sendMedia(res, meta);
      return sendJson(res, 200, meta);
    }
    if (method === 'DELETE') {
      this.objects.delete(k);
      await rm(this.blobPath(bucket, name), { force: true });
      await this.persist();
      res.writeHead(204).end();
      return;
    }
    if (method === 'PATCH') {
      const body = JSON.parse((await readBody(req)).toString() || '{}') as { acl?: { entity: string; role: string }[] | null };
      const predefined = url.searchParams.get('predefinedAcl');
      if (predefined === 'publicRead') meta.acl = [{ entity: 'allUsers', role: 'READER' }];
      else if (predefined === 'private' || predefined === 'projectPrivate' || body.acl === null) meta.acl = [];
      else if (Array.isArray(body.acl)) meta.acl = body.acl;
      meta.metageneration = String(Number(meta.metageneration) + 1);
      meta.updated = new Date().toISOString();
      await this.persist();
      return sendJson(res, 200, meta);
    }
    return gcsError(res, 405, `${SUBSET_NOTE}: ${method} object`, 'notImplemented');
  }

  private async acl(req: IncomingMessage, res: ServerResponse, bucket: string, name: string, entity: string | undefined | ''): Promise<void> {
    const meta = this.objects.get(this.key(bucket, name));
    if (!meta) return gcsError(res, 404, `No such object: ${bucket}/${name}`, 'notFound');
    if (!this.isOwner(req)) return gcsError(res, 401, 'Anonymous caller', 'required');
    const method = req.method ?? 'GET';
    if (method === 'GET' && !entity) return sendJson(res, 200, { kind: 'storage#objectAccessControls', items: meta.acl });
    if (method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString()) as { entity: string; role: string };
      meta.acl = meta.acl.filter((a) => a.entity !== body.entity).concat({ entity: body.entity, role: body.role });
      await this.persist();
      return sendJson(res, 200, { kind: 'storage#objectAccessControl', bucket, object: name, ...body });
    }
    if (method === 'DELETE' && entity) {
      const before = meta.acl.length;
      meta.acl = meta.acl.filter((a) => a.entity !== entity);
      if (meta.acl.length === before) return gcsError(res, 404, `No ACL entry for ${entity}`, 'notFound');
      await this.persist();
      res.writeHead(204).end();
      return;
    }
    return gcsError(res, 405, `${SUBSET_NOTE}: ${method} acl`, 'notImplemented');
  }

  private precondition(bucket: string, name: string, ifGenerationMatch: string | undefined | null): boolean {
    if (ifGenerationMatch === undefined || ifGenerationMatch === null) return true;
    const existing = this.objects.get(this.key(bucket, name));
    if (ifGenerationMatch === '0') return existing === undefined;
    return existing !== undefined && existing.generation === ifGenerationMatch;
  }

  /** Writes to one object, one after the other: the precondition is checked in turn, as GCS does (two creators with ifGenerationMatch=0: one wins). */
  private readonly writing = new Map<string, Promise<unknown>>();

  /** Stores the object if `ifGen` still holds (undefined: it no longer does, 412). */
  private commit(bucket: string, name: string, contentType: string, source: string | Buffer, ifGen: string | undefined): Promise<ObjectMeta | undefined> {
    const key = this.key(bucket, name);
    const now = () => (this.precondition(bucket, name, ifGen) ? this.store(bucket, name, contentType, source) : Promise.resolve(undefined));
    const mine = (this.writing.get(key) ?? Promise.resolve()).then(now, now);
    this.writing.set(
      key,
      mine.catch(() => undefined),
    );
    return mine;
  }

  private async store(bucket: string, name: string, contentType: string, source: string | Buffer): Promise<ObjectMeta> {
    const data = typeof source === 'string' ? await readFile(source) : source;
    const crc = new CRC32C();
    crc.update(data);
    const now = new Date().toISOString();
    const meta: ObjectMeta = {
      kind: 'storage#object',
      bucket,
      name,
      generation: String(Date.now() * 1000 + Math.floor(Math.random() * 1000)),
      metageneration: '1',
      size: String(data.length),
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc.toString(),
      contentType,
      timeCreated: now,
      updated: now,
      acl: [],
    };
    await mkdir(join(this.opts.dataDir, 'blobs', encodeURIComponent(bucket)), { recursive: true });
    await writeFile(this.blobPath(bucket, name), data);
    this.objects.set(this.key(bucket, name), meta);
    await this.persist();
    return meta;
  }

  private async insert(req: IncomingMessage, res: ServerResponse, bucket: string, url: URL, fault: Fault | undefined): Promise<void> {
    if (!(bucket in this.opts.buckets)) return gcsError(res, 404, `The specified bucket does not exist: ${bucket}`, 'notFound');
    if (!this.isOwner(req)) return gcsError(res, 401, 'Anonymous caller does not have storage.objects.create access', 'required');
    const type = url.searchParams.get('uploadType');
    const method = req.method ?? 'POST';
    const ifGen = url.searchParams.get('ifGenerationMatch') ?? undefined;
    if (type === 'media' && method === 'POST') {
      const name = url.searchParams.get('name') ?? '';
      const body = await readBody(req);
      if (!this.precondition(bucket, name, ifGen))
        return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
      const meta = await this.commit(bucket, name, String(req.headers['content-type'] ?? 'application/octet-stream'), body, ifGen);
      if (meta === undefined) return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
      return sendJson(res, 200, meta);
    }
    if (type === 'multipart' && method === 'POST') {
      const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type']))?.[1];
      const body = await readBody(req);
      if (!boundary) return gcsError(res, 400, 'multipart upload without a boundary');
      const parts = splitMultipart(body, boundary);
      if (parts.length < 2) return gcsError(res, 400, 'multipart upload needs metadata and media parts');
      const meta = JSON.parse(parts[0]!.body.toString()) as { name?: string; contentType?: string };
      const name = meta.name ?? url.searchParams.get('name') ?? '';
      if (!this.precondition(bucket, name, ifGen))
        return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
      const stored = await this.commit(bucket, name, meta.contentType ?? parts[1]!.contentType ?? 'application/octet-stream', parts[1]!.body, ifGen);
      if (stored === undefined) return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
      return sendJson(res, 200, stored);
    }
    if (type === 'resumable' && method === 'POST') {
      const body = await readBody(req);
      const meta = body.length > 0 ? (JSON.parse(body.toString()) as { name?: string; contentType?: string }) : {};
      const name = meta.name ?? url.searchParams.get('name') ?? '';
      if (!this.precondition(bucket, name, ifGen))
        return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
      const id = randomBytes(12).toString('hex');
      const file = join(this.opts.dataDir, 'sessions', id);
      await writeFile(file, '');
      this.sessions.set(id, {
        bucket,
        name,
        contentType: meta.contentType ?? String(req.headers['x-upload-content-type'] ?? 'application/octet-stream'),
        ifGenerationMatch: ifGen,
        received: 0,
        file,
      });
      await this.persist();
      const location = `${this.url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`;
      res.writeHead(200, { location, 'content-length': 0 }).end();
      return;
    }
    if (type === 'resumable' && method === 'PUT') {
      const id = url.searchParams.get('upload_id') ?? '';
      const s = this.sessions.get(id);
      if (!s) return gcsError(res, 404, 'No such upload session', 'notFound');
      const range = String(req.headers['content-range'] ?? '');
      const status = /^bytes \*\/(\d+|\*)$/.exec(range);
      const chunk = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
      if (fault?.kind === 'drop-mid-body') {
        // take part of the body, then cut the connection as a crashing server would
        for await (const c of req) {
          await appendFile(s.file, (c as Buffer).subarray(0, Math.floor((c as Buffer).length / 2)));
          s.received += Math.floor((c as Buffer).length / 2);
          break;
        }
        req.socket.destroy();
        return;
      }
      const body = await readBody(req);
      if (status) {
        const total = status[1] === '*' ? undefined : Number(status[1]);
        if (total !== undefined && s.received === total) return this.finish(res, id, s);
        return this.incomplete(res, s);
      }
      if (!chunk) {
        // a single PUT with the whole body and no range
        await appendFile(s.file, body);
        s.received += body.length;
        return this.finish(res, id, s);
      }
      const start = Number(chunk[1]);
      if (start !== s.received) {
        // the client resends from where we are: tell it
        return this.incomplete(res, s);
      }
      await appendFile(s.file, body);
      s.received += body.length;
      await this.persist();
      const total = chunk[3] === '*' ? undefined : Number(chunk[3]);
      if (total !== undefined && s.received >= total) return this.finish(res, id, s);
      return this.incomplete(res, s);
    }
    return gcsError(res, 400, `${SUBSET_NOTE}: uploadType=${type} ${method}`);
  }

  private incomplete(res: ServerResponse, s: Session): void {
    const headers: Record<string, string> = { 'content-length': '0' };
    if (s.received > 0) headers['range'] = `bytes=0-${s.received - 1}`;
    res.writeHead(308, headers).end();
  }

  private async finish(res: ServerResponse, id: string, s: Session): Promise<void> {
    this.sessions.delete(id);
    if (!this.precondition(s.bucket, s.name, s.ifGenerationMatch)) {
      await rm(s.file, { force: true });
      await this.persist();
      return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
    }
    const meta = await this.commit(s.bucket, s.name, s.contentType, s.file, s.ifGenerationMatch);
    await rm(s.file, { force: true });
    if (meta === undefined) {
      await this.persist();
      return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
    }
    return sendJson(res, 200, meta);
  }
}

function splitMultipart(body: Buffer, boundary: string): { contentType: string | undefined; body: Buffer }[] {
  const delim = Buffer.from(`--${boundary}`);
  const out: { contentType: string | undefined; body: Buffer }[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString();
    let content = part.subarray(headerEnd + 4);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    out.push({ contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1], body: content });
    pos = next;
  }
  return out;
}
