import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Markdown without fenced code blocks and inline code, where `[x](y)` and `# x` are not links or headings. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, (code) => code.replace(/[[\]()#]/g, ' '));
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
  for (const [, text] of withoutFences.matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const slug = text!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('links in README.md and docs/', () => {
  it('derives GitHub heading anchors', () => {
    const anchors = headingAnchors("# Tools\n## `start_batch`\n## Serving MCP (`serve`)\n## Using the client's own model (MCP sampling)\n## Resource `policy://{id}`\n```sh\n# not a heading\n```\n## Tools\n");
    expect([...anchors]).toEqual(['tools', 'start_batch', 'serving-mcp-serve', 'using-the-clients-own-model-mcp-sampling', 'resource-policyid', 'tools-1']);
  });

  it.each(pages)('every relative link and #anchor in %s resolves inside the repository', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    const problems: string[] = [];
    for (const link of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: — not ours to check offline
      const [path, anchor] = link.split('#', 2) as [string, string | undefined];
      const target = path === '' ? join(root, page) : resolve(dirname(join(root, page)), decodeURIComponent(path));
      if (relative(root, target).startsWith('..')) {
        problems.push(`${link}: outside the repository`);
        continue;
      }
      if (!existsSync(target)) {
        problems.push(`${link}: no such file`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!statSync(target).isFile() || !target.endsWith('.md')) {
        problems.push(`${link}: an anchor into a file that is not Markdown`);
        continue;
      }
      if (!headingAnchors(readFileSync(target, 'utf8')).has(anchor)) problems.push(`${link}: no heading with that anchor in ${relative(root, target)}`);
    }
    expect(problems).toEqual([]);
  });
});
