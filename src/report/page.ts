import { embedJson, escapeHtml, inlineSafe, viewAsset } from '../views/assets.js';

/**
 * The shell every HTML report shares: one self-contained page (no external resources) with the
 * deliberation view's styles, a title, the report's body, its samples as embedded JSON and its scripts.
 */
export function reportPage(page: { title: string; css?: string; body: string; data: { id: string; value: unknown }; scripts: string[] }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${inlineSafe(viewAsset('deliberation.css'))}${page.css ? '\n' + page.css : ''}</style>
</head>
<body>
<main class="aidsafe report">
<h1>${escapeHtml(page.title)}</h1>
${page.body}
</main>
<script type="application/json" id="${page.data.id}">${embedJson(page.data.value)}</script>
${page.scripts.map((script) => `<script>${inlineSafe(script)}</script>`).join('\n')}
</body>
</html>
`;
}
