import { extAppsBundle, inlineSafe, viewAsset } from './assets.js';

export const DELIBERATION_VIEW_URI = 'ui://aidsafe/deliberation.html';

let html: string | undefined;

/**
 * The deliberation view as one self-contained page (inline CSS and JS, no external origin), rendered
 * by MCP Apps hosts in a sandboxed iframe next to the tool result.
 */
export function deliberationViewHtml(): string {
  html ??= `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AIDSAFE deliberation</title>
<style>${inlineSafe(viewAsset('deliberation.css'))}</style>
</head>
<body>
<main id="root" class="aidsafe"><p class="empty">Waiting for the deliberation…</p></main>
<script type="module">${inlineSafe(extAppsBundle())}</script>
<script type="module">${inlineSafe(viewAsset('render-record.js'))}
${inlineSafe(viewAsset('app.js'))}</script>
</body>
</html>
`;
  return html;
}
