import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { AppContext } from '../context.js';
import { log } from '../log.js';
import { createServer } from '../server.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** Required as `Authorization: Bearer <token>` on every request when set. */
  token?: string;
  /** Extra origins and hosts allowed besides loopback ones (for a reverse proxy or a LAN name). */
  allowedOrigins?: string[];
  allowedHosts?: string[];
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A session that sends nothing for this long is closed: clients that vanish without a DELETE leave none behind. */
const SESSION_IDLE_MS = 30 * 60 * 1000;

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * MCP over Streamable HTTP at /mcp: one MCP server (and session) per client, all sharing one store.
 * Checks run before any MCP handling: Host and Origin against DNS rebinding (403), then the bearer
 * token (401).
 */
export async function startHttpServer(ctx: AppContext, options: HttpOptions): Promise<{ url: string; close: () => Promise<void> }> {
  if (!isLoopback(options.host) && !options.token) {
    throw new Error(`refusing to serve on ${options.host} without a token: set AIDSAFE_HTTP_TOKEN, or bind 127.0.0.1`);
  }
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const lastSeen = new Map<string, number>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, seen] of lastSeen) {
      if (now - seen > SESSION_IDLE_MS) void sessions.get(id)?.close();
    }
  }, 60_000);
  sweep.unref();
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('error', 'http request failed', { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) reply(res, 500, 'internal error');
    });
  });

  let port = options.port;
  const allowedHost = (hostHeader: string | undefined): boolean => {
    if (!hostHeader) return false;
    const extra = options.allowedHosts ?? [];
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
    if (!m) return false;
    const name = m[1] ?? '';
    if (extra.includes(hostHeader) || extra.includes(name)) return true;
    return (isLoopback(name) || name === options.host) && (m[2] === undefined || Number(m[2]) === port);
  };
  const allowedOrigin = (origin: string | undefined): boolean => {
    if (origin === undefined) return true; // not a browser
    if ((options.allowedOrigins ?? []).includes(origin)) return true;
    try {
      return isLoopback(new URL(origin).hostname);
    } catch {
      return false;
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/mcp') return reply(res, 404, 'not found: the MCP endpoint is /mcp');
    if (!allowedHost(req.headers.host)) return reply(res, 403, `forbidden: Host "${req.headers.host ?? ''}" is not allowed`);
    if (!allowedOrigin(req.headers.origin)) return reply(res, 403, `forbidden: Origin "${req.headers.origin}" is not allowed`);
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return reply(res, 401, 'unauthorized: send Authorization: Bearer <AIDSAFE_HTTP_TOKEN>');
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req, res) : undefined;
    if (body === INVALID) return;
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing) {
      lastSeen.set(sessionId as string, Date.now());
      return existing.handleRequest(req, res, body);
    }
    if (sessionId !== undefined) return reply(res, 404, 'unknown session: initialize again');
    if (req.method !== 'POST' || !isInitializeRequest(body)) return reply(res, 400, 'bad request: start a session with an initialize request');

    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
        lastSeen.set(id, Date.now());
      },
    });
    const server = createServer(ctx);
    transport.onclose = () => {
      if (transport.sessionId) {
        sessions.delete(transport.sessionId);
        lastSeen.delete(transport.sessionId);
      }
      void server.close();
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}/mcp`,
    close: async () => {
      clearInterval(sweep);
      for (const transport of sessions.values()) await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const INVALID = Symbol('invalid body');

async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      reply(res, 413, `request body over ${MAX_BODY_BYTES} bytes`);
      return INVALID;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    reply(res, 400, 'bad request: the body is not JSON');
    return INVALID;
  }
}

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}
