import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The browser files in views/, shipped beside dist/ and src/ alike. */
const VIEWS = new URL('../../views/', import.meta.url);

const cache = new Map<string, string>();
function read(key: string, load: () => string): string {
  let text = cache.get(key);
  if (text === undefined) {
    text = load();
    cache.set(key, text);
  }
  return text;
}

export function viewAsset(name: 'deliberation.css' | 'render-record.js' | 'app.js' | 'report.js' | 'compare.js'): string {
  return read(name, () => readFileSync(new URL(name, VIEWS), 'utf8'));
}

/**
 * The ext-apps App class as a classic global: its self-contained browser bundle ends in an ES export
 * list, which becomes an assignment to `globalThis.__aidsafeExtApps`, so the view can inline it.
 */
export function extAppsBundle(): string {
  return read('ext-apps', () => {
    // dist/vendor/ holds a copy (scripts/build.mjs), so an installed package needs no ext-apps; from src/ it is in node_modules.
    const copy = fileURLToPath(new URL('../vendor/ext-apps-app-with-deps.js', import.meta.url));
    const path = existsSync(copy) ? copy : createRequire(import.meta.url).resolve('@modelcontextprotocol/ext-apps/app-with-deps');
    const source = readFileSync(path, 'utf8');
    const match = /export\s*\{([^}]*)\};?\s*$/.exec(source);
    if (!match) throw new Error(`unexpected shape of ${path}: no trailing export list`);
    const entries = (match[1] ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [local, exported] = part.split(/\s+as\s+/);
        return `${JSON.stringify(exported ?? local)}:${local}`;
      });
    return `${source.slice(0, match.index)}\nglobalThis.__aidsafeExtApps={${entries.join(',')}};`;
  });
}

/** Text safe to put inside a <script> or <style> element. */
export function inlineSafe(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1');
}

/** JSON safe to embed in an HTML <script type="application/json"> element. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
