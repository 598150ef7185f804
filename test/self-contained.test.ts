import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Built, installed or generated: not part of what a clone holds. */
const SKIP = new Set(['.git', 'node_modules', 'dist', 'build', 'coverage', 'test-output', '.bench-build', '.bench-data']);
const TEXT = /\.(ts|mts|js|mjs|cjs|json|md|ya?ml|sh|py|toml|txt)$|^(Dockerfile|run)$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return files(path);
    return e.isFile() && TEXT.test(e.name) ? [path] : [];
  });
}

/** Where a file runs from: bench/ is compiled to .bench-build/bench/ and runs there. */
function runsFrom(file: string): string {
  const rel = relative(root, file);
  return rel.startsWith('bench' + sep) ? dirname(join(root, '.bench-build', rel)) : dirname(file);
}

/** Path-traversal probes at system folders, sent to the product to be refused, are no paths the repository reads. */
const PROBE = /^(?:\.\.\/)+(etc|proc|sys|dev)\//;

/** Relative paths in a file's text that climb above the repository root, read from where the file runs. */
function pathsAbove(file: string, text = readFileSync(file, 'utf8')): string[] {
  const found: string[] = [];
  for (const [, path] of text.matchAll(/(?:^|[\s'"`(=:])((?:\.\.\/)+[\w./-]*)/gm)) {
    if (!path || PROBE.test(path)) continue;
    const rel = relative(root, resolve(runsFrom(file), path));
    if (rel === '..' || rel.startsWith('..' + sep)) found.push(path);
  }
  // A folder that sits beside a checkout, however it is reached (the name is split so this file does not match itself).
  for (const [m] of text.matchAll(new RegExp(['shared', 'datasets'].join('/'), 'g'))) found.push(m);
  return found;
}

describe('the repository is self-contained', () => {
  it('no test, script, source file or doc names a path above the repository root', () => {
    const self = fileURLToPath(import.meta.url);
    const offenders = files(root)
      .filter((file) => file !== self)
      .map((file) => ({ file: relative(root, file), paths: pathsAbove(file) }))
      .filter((f) => f.paths.length > 0);
    expect(offenders).toEqual([]);
  });

  it('finds a path above the root when one is named, and not one that stays inside', () => {
    const helper = join(root, 'test', 'helpers', 'example.ts');
    expect(pathsAbove(helper, "new URL('../../../sibling/prompts.csv', import.meta.url)")).toEqual(['../../../sibling/prompts.csv']);
    expect(pathsAbove(helper, "import { x } from '../../src/config.js'; new URL('../../benchmarks/', import.meta.url)")).toEqual([]);
    expect(pathsAbove(join(root, 'README.md'), 'aidsafe-mcp run --input ../prompts.csv')).toEqual(['../prompts.csv']);
    expect(pathsAbove(join(root, 'bench', 'scale.ts'), "new URL('../../benchmarks/', import.meta.url)")).toEqual([]);
    expect(pathsAbove(join(root, 'bench', 'scale.ts'), "new URL('../../../datasets/', import.meta.url)")).toEqual(['../../../datasets/']);
    expect(pathsAbove(helper, "{ id: '../../etc/passwd' }, { record_id: 'x/../../y' }")).toEqual([]);
  });
});
