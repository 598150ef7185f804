import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, isInitializeRequest, JSONRPCMessageSchema, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { HTTP_ROOTS_IGNORED } from '../client-roots.js';
import { ConfigError } from '../config.js';
import type { AppContext } from '../context.js';
import { log } from '../log.js';
import { createServer } from '../server.js';
import { MAX_MESSAGE_BYTES } from './limits.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** Required as `Authorization: Bearer <token>` on every request when set. */
  token?: string;
  /** Extra origins and hosts allowed besides loopback ones (for a reverse proxy or a LAN name). */
  allowedOrigins?: string[];
  allowedHosts?: string[];
  /** Live sessions at most; past it a new client evicts the least recently used idle one (default 64). */
  maxSessions?: number;
  /** A session that sends nothing for this long is closed (default 10 minutes). */
  sessionIdleMs?: number;
}

export const DEFAULT_MAX_SESSIONS = 64;
/** Each session holds a whole MCP server, 2–3.5 MB: 1,000 of them is already up to 3.5 GB. */
export const MAX_SESSIONS_LIMIT = 1_000;
export const DEFAULT_SESSION_IDLE_MS = 10 * 60 * 1000;

interface Session {
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
  /** POST requests in flight; a standalone GET stream for notifications does not make a session busy. */
  inFlight: number;
}

/** AIDSAFE_HTTP_MAX_SESSIONS and AIDSAFE_HTTP_SESSION_IDLE_MINUTES, checked; unset means the default. */
export function httpSessionLimits(env: NodeJS.ProcessEnv): Pick<HttpOptions, 'maxSessions' | 'sessionIdleMs'> {
  const whole = (name: string, min: number, max: number, why = ''): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${value}")${why}`);
    return n;
  };
  const minutes = whole('AIDSAFE_HTTP_SESSION_IDLE_MINUTES', 1, 1440);
  const maxSessions = whole('AIDSAFE_HTTP_MAX_SESSIONS', 1, MAX_SESSIONS_LIMIT, `: each session holds a whole MCP server (2–3.5 MB), and an idle one is closed to make room for a new client anyway`);
  return { maxSessions, sessionIdleMs: minutes === undefined ? undefined : minutes * 60_000 };
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * MCP over Streamable HTTP at /mcp: one MCP server (and session) per client, all sharing one store.
 * Checks run before any MCP handling: Host and Origin against DNS rebinding (403), then the bearer
 * token (401).
 */
export async function startHttpServer(ctx: AppContext, options: HttpOptions): Promise<{ url: string; sessionCount: () => number; close: () => Promise<void> }> {
  if (!isLoopback(options.host) && !options.token) {
    throw new Error(`refusing to serve on ${options.host} without a token: set AIDSAFE_HTTP_TOKEN, or bind 127.0.0.1`);
  }
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  // Each session holds a whole MCP server, so their number is capped and idle ones expire.
  const sessions = new Map<string, Session>();
  let opening = 0; // initialize requests being answered (each holds a place), not yet in `sessions`
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const s of sessions.values()) if (s.inFlight === 0 && now - s.lastSeen > idleMs) void s.transport.close();
    },
    Math.min(60_000, Math.max(1_000, idleMs / 4)),
  );
  sweep.unref();
  /** Makes room for the session being opened: closes the least recently used idle one when over the cap. */
  const makeRoom = async (): Promise<boolean> => {
    if (sessions.size + opening <= maxSessions) return true;
    let oldest: Session | undefined;
    for (const s of sessions.values()) if (s.inFlight === 0 && (!oldest || s.lastSeen < oldest.lastSeen)) oldest = s;
    if (!oldest) return false;
    log('info', `http: ${sessions.size} sessions, the cap; closing the least recently used idle one`);
    await oldest.transport.close();
    return sessions.size + opening <= maxSessions;
  };
  const token = options.token ? Buffer.from(options.token) : undefined;

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
    if (token) {
      // The scheme name is case-insensitive (RFC 9110 §11.1); the token is compared in constant time.
      const m = /^bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
      const given = Buffer.from(m?.[1] ?? '');
      if (given.length !== token.length || !timingSafeEqual(given, token)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return reply(res, 401, 'unauthorized: send Authorization: Bearer <AIDSAFE_HTTP_TOKEN>');
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req, res) : undefined;
    if (body === INVALID) return;
    // A request that is not a valid JSON-RPC message is answered for its id when it has one, as over stdio
    // (the SDK would answer it with id null).
    const id = invalidRequestId(body);
    if (id !== undefined) return reply(res, 400, 'invalid request: not a JSON-RPC 2.0 message (jsonrpc "2.0", a method name, params an object)', id, ErrorCode.InvalidRequest);
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing) {
      existing.lastSeen = Date.now();
      if (req.method !== 'POST') return existing.transport.handleRequest(req, res, body);
      existing.inFlight++;
      res.once('close', () => {
        existing.inFlight--;
        existing.lastSeen = Date.now();
      });
      return existing.transport.handleRequest(req, res, body);
    }
    if (sessionId !== undefined) return reply(res, 404, 'unknown session: initialize again');
    if (req.method !== 'POST' || !isInitializeRequest(body)) return reply(res, 400, 'bad request: start a session with an initialize request');
    opening++;
    try {
      if (!(await makeRoom())) {
        res.setHeader('Retry-After', '5');
        return reply(res, 503, `server busy: all ${maxSessions} sessions have requests in flight (AIDSAFE_HTTP_MAX_SESSIONS); retry shortly`);
      }
      await openSession(req, res, body);
    } finally {
      opening--;
    }
  }

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, lastSeen: Date.now(), inFlight: 0 });
      },
    });
    // A remote client's roots name folders on its machine, not ours: ignored unless the operator trusts them.
    const server = createServer(ctx.config.httpTrustRoots ? ctx : { ...ctx, rootsIgnored: HTTP_ROOTS_IGNORED });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      void server.close();
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    // An initialize that was refused opened no session; its server would otherwise stay registered as a log sink.
    if (!transport.sessionId) await server.close();
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}/mcp`,
    sessionCount: () => sessions.size,
    close: async () => {
      clearInterval(sweep);
      for (const s of [...sessions.values()]) await s.transport.close();
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
    if (size > MAX_MESSAGE_BYTES) {
      reply(res, 413, `request body over ${MAX_MESSAGE_BYTES} bytes`);
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

/** The id of a body that is one request-like object with a usable id but not a valid JSON-RPC message. */
function invalidRequestId(body: unknown): RequestId | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('method' in body)) return undefined;
  const id = (body as { id?: unknown }).id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) return undefined;
  return JSONRPCMessageSchema.safeParse(body).success ? undefined : id;
}

function reply(res: ServerResponse, status: number, message: string, id: RequestId | null = null, code = -32000): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }));
}
