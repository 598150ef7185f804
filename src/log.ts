// Logs go to stderr: on stdio, stdout belongs to the MCP protocol alone.
// Values that look like secrets are masked, so a key pasted into a prompt or an error never reaches a log.

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
const order: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

const secretPatterns = [/\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi];

export function redact(text: string, secrets: readonly string[] = knownSecrets): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***');
  for (const pattern of secretPatterns) out = out.replace(pattern, '***');
  return out;
}

const knownSecrets: string[] = [];
/** Registers a value (an API key read from the environment) that must never be printed. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4 && !knownSecrets.includes(value)) knownSecrets.push(value);
}

let threshold: LogLevel = (process.env.AIDSAFE_LOG_LEVEL as LogLevel) in order ? (process.env.AIDSAFE_LOG_LEVEL as LogLevel) : 'info';

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

type Sink = (level: LogLevel, text: string) => void;
const sinks = new Set<Sink>();

/** Also sends log lines elsewhere (to MCP clients as logging notifications); returns the remover. */
export function addLogSink(sink: Sink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}

export function log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
  if (order[level] < order[threshold]) return;
  const line = redact(fields ? `${message} ${JSON.stringify(fields)}` : message);
  process.stderr.write(`[aidsafe-mcp] ${level}: ${line}\n`);
  for (const sink of sinks) sink(level, line);
}
