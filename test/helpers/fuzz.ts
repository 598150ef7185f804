import { seededRandom } from '../../src/stats/bootstrap.js';

/**
 * Seeded random values for the transport fuzz runs: text with quotes, backslashes, newlines, NULs and
 * CJK; numbers at and past the edges; ids and paths that look meaningful; nested arrays and objects
 * with keys such as __proto__. The same seed gives the same sequence, so a failure repeats.
 */
export function fuzzer(seed: number) {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const text = (max: number) => Array.from({ length: int(max) }, () => String.fromCharCode(pick([32 + int(95), int(0x3000), 0x22, 0x5c, 0x0a, 0]))).join('');
  const value = (depth: number): unknown => {
    switch (int(depth > 2 ? 6 : 8)) {
      case 0:
        return text(40);
      case 1:
        return pick([0, -1, 1, 2.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 63, 3, 8, 200]);
      case 2:
        return rnd() < 0.5;
      case 3:
        return null;
      case 4:
        return pick(['physical_harm', 'cot_0000000000000', 'run-1', '../../etc/passwd', '/proc/self/environ', 'sft', 'How do I kill a Python process?', '']);
      case 5:
        return 'x'.repeat(pick([0, 1, 20_001, 60_000]));
      case 6:
        return Array.from({ length: int(5) }, () => value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['id', 'prompt', 'thoughts', 'x', '__proto__', 'constructor']), value(depth + 1)]));
    }
  };
  /** Arguments for a listed tool: mostly some of its own properties with random values, sometimes not an object at all. */
  const argsFor = (tool: { inputSchema: { properties?: Record<string, unknown> } }): unknown =>
    rnd() < 0.1 ? value(0) : Object.fromEntries(Object.keys(tool.inputSchema.properties ?? {}).filter(() => rnd() < 0.7).map((k) => [k, value(1)]));
  /** Methods a client may call, and some it may not. */
  const method = () => pick(['ping', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'nope', 'resources/read', 'prompts/get', 'completion/complete', 'logging/setLevel']);
  const paramsFor = () => (rnd() < 0.5 ? value(0) : { uri: pick(['policy://physical_harm', 'policy://nope', 'ui://x', text(10)]), name: text(8), level: pick(['debug', 'loud']) });
  return { rnd, int, pick, text, value, argsFor, method, paramsFor };
}
