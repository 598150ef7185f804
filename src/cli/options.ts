import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/**
 * One command-line flag, declared once: the parser, the command's `--help` and the flag tables of
 * docs/cli.md are all made from it, so none of them can list a flag the others do not.
 */
export interface Flag {
  readonly type: 'string' | 'boolean';
  /** Given more than once, every value is kept. */
  readonly multiple?: boolean;
  /** What the value is, as help writes it: `--limit N`. String flags only. */
  readonly value?: string;
  /** One line, printed beside the flag by `--help`. */
  readonly help: string;
  /** The default as a user sees it (help adds "default …"); what the code falls back to, not a parser default. */
  readonly default?: string;
  /** What docs/cli.md adds after the help line, where one line cannot say enough. */
  readonly details?: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** A command: its synopsis, what it does, and its flags. */
export interface CommandSpec {
  /** What follows `aidsafe-mcp ` on the synopsis line. */
  readonly synopsis: string;
  /** One line for the list of commands in `aidsafe-mcp --help`. */
  readonly title: string;
  /** More about what it does, for its own `--help`: lines of at most 88 columns, as written. */
  readonly summary?: string;
  readonly flags: Flags;
  /** Takes arguments that are not flags (merge's `--from a b c`). */
  readonly positionals?: boolean;
}

type ParserOptions<F extends Flags> = { -readonly [K in keyof F]: { type: F[K]['type']; multiple: F[K] extends { multiple: true } ? true : false } };

/** The `node:util` parseArgs options of a set of flags. */
export function parserOptions<F extends Flags>(flags: F): ParserOptions<F> {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { type: flag.type, multiple: flag.multiple === true }])) as ParserOptions<F>;
}

/**
 * Parses a command's arguments strictly by its declared flags. An unknown flag is a UsageError that
 * names the closest known one, so `--limt` gets "did you mean --limit?" instead of parseArgs' text.
 */
export function parseFlags<F extends Flags, E extends Pick<ParseArgsConfig, 'tokens' | 'allowPositionals'> = object>(command: string, spec: { flags: F; positionals?: boolean }, argv: string[], extra?: E) {
  rejectUnknownFlags(command, spec.flags, argv);
  return parseArgs({ ...(extra as E), args: argv, strict: true as const, allowPositionals: spec.positionals === true, options: parserOptions(spec.flags) });
}

/** The flags in `argv` that `flags` does not declare, as written (`--limt`, `-x`). */
export function unknownFlags(flags: Flags, argv: string[]): string[] {
  const { tokens } = parseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true, options: parserOptions(flags) });
  return [...new Set(tokens.flatMap((t) => (t.kind === 'option' && !Object.hasOwn(flags, t.name) ? [t.rawName] : [])))];
}

function rejectUnknownFlags(command: string, flags: Flags, argv: string[]): void {
  const unknown = unknownFlags(flags, argv);
  if (unknown.length === 0) return;
  const known = Object.keys(flags).map((name) => `--${name}`);
  const named = unknown.map((flag) => ({ flag, near: closest(flag, known) }));
  const where = `\`aidsafe-mcp ${command} --help\` lists its options`;
  if (named.length === 1) {
    const { flag, near } = named[0]!;
    throw new UsageError(`unknown option ${flag}${near ? `; did you mean ${near}?` : ''} (${where})`);
  }
  throw new UsageError(`unknown options ${named.map(({ flag, near }) => (near ? `${flag} (did you mean ${near}?)` : flag)).join(', ')}; ${where}`);
}

/**
 * The candidate nearest to `word` by edit distance (a swap of two neighbours counts once), if it is
 * near enough to be a slip: at most a third of the word's length, at least one edit. A word that
 * begins a longer candidate (`--conc`) counts as near too.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(word) && word.replace(/^-+/, '').length >= 3 ? 0.5 : editDistance(word, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  const allowed = Math.max(1, Math.floor(word.replace(/^-+/, '').length / 3));
  return best && best.distance <= allowed ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** A flag as help and the docs write it: `--limit N`, `--policy ID` (repeatable). */
export function flagLabel(name: string, flag: Flag): string {
  return `--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`;
}

/** The help line of a flag: what it does, whether it repeats, and its default. */
export function flagHelp(flag: Flag): string {
  const notes = [flag.multiple ? 'repeatable' : undefined, flag.default !== undefined ? `default ${flag.default}` : undefined].filter(Boolean);
  return flag.help + (notes.length ? ` (${notes.join('; ')})` : '');
}

const WIDTH = 88;
const LABEL_WIDTH = 28;

/** `--help`'s list of flags: one entry per flag, its help wrapped under itself at 88 columns. */
export function flagLines(flags: Flags): string {
  const rows = Object.entries(flags).map(([name, flag]) => [flagLabel(name, flag), flagHelp(flag)] as const);
  rows.push(['--help, -h', 'print this help']);
  return rows.map(([label, text]) => twoColumns(label, text)).join('\n');
}

/** A label and its text, the text wrapped in a column of its own. */
export function twoColumns(label: string, text: string, labelWidth = LABEL_WIDTH): string {
  const indent = ' '.repeat(2 + labelWidth);
  const lines = wrap(text, WIDTH - indent.length);
  const first = `  ${label}`;
  const head = first.length < indent.length ? first.padEnd(indent.length) + lines[0] : `${first}\n${indent}${lines[0]}`;
  return [head, ...lines.slice(1).map((line) => indent + line)].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Help text as Markdown: flags and environment variables it names as code. */
function asMarkdown(text: string): string {
  return text.replace(/(?<![\w`-])(--[a-z][a-z0-9-]*|[A-Z][A-Z0-9]*_[A-Z0-9_]+)/g, '`$1`');
}

/** docs/cli.md's table of a command's flags. */
export function flagTable(flags: Flags): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const rows = Object.entries(flags).map(([name, flag]) => {
    const text = [asMarkdown(flag.help) + (flag.multiple ? ' (repeatable)' : ''), flag.details].filter(Boolean).join('; ');
    return `| \`${cell(flagLabel(name, flag))}\` | ${cell(text)} | ${flag.default !== undefined ? cell(flag.default) : ''} |`;
  });
  if (rows.length === 0) return 'No flags.';
  return ['| flag | what it does | default |', '|---|---|---|', ...rows].join('\n');
}
