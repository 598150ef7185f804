import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the parts of the Hugging Face Hub API that a dataset upload uses, on 127.0.0.1:
 * repo creation, preupload (every file "regular", so files travel inline in the commit) and the
 * NDJSON commit. It keeps the committed files, and answers 403 to every call when told to.
 */
export class HubStandIn {
  readonly requests: { method: string; url: string; authorization?: string; body: string }[] = [];
  readonly repos = new Map<string, { private: boolean; commits: { title: string; files: Map<string, Buffer> }[] }>();
  forbidden = false;
  private server?: Server;

  constructor(private readonly token: string) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { error: 'Invalid credentials in Authorization header' });
    if (this.forbidden) return send(403, { error: 'You don\u2019t have the rights to create a dataset under this namespace' });
    const url = req.url ?? '';
    if (req.method === 'POST' && url === '/api/repos/create') {
      const { name, organization, type, visibility } = JSON.parse(body) as { name: string; organization: string; type: string; visibility?: string };
      const id = `${organization}/${name}`;
      if (type !== 'dataset') return send(400, { error: `expected a dataset repo, got ${type}` });
      if (this.repos.has(id)) return send(409, { error: 'You already created this dataset repo' });
      this.repos.set(id, { private: visibility === 'private', commits: [] });
      return send(200, { url: `${this.url}/datasets/${id}`, id });
    }
    const m = /^\/api\/datasets\/([^/]+\/[^/]+)\/(preupload|commit)\/main$/.exec(url);
    const repo = m && this.repos.get(m[1]!);
    if (!m || !repo) return send(404, { error: 'Repository not found' });
    if (m[2] === 'preupload') {
      const { files } = JSON.parse(body) as { files: { path: string }[] };
      return send(200, { files: files.map((f) => ({ path: f.path, uploadMode: 'regular' })) });
    }
    const lines = body.split('\n').map((l) => JSON.parse(l) as { key: string; value: { summary?: string; path?: string; content?: string } });
    const files = new Map<string, Buffer>();
    for (const line of lines) if (line.key === 'file') files.set(line.value.path!, Buffer.from(line.value.content!, 'base64'));
    repo.commits.push({ title: lines.find((l) => l.key === 'header')?.value.summary ?? '', files });
    return send(200, { commitOid: `c${repo.commits.length}`, commitUrl: `${this.url}/datasets/${m[1]}/commit/c${repo.commits.length}` });
  }
}
