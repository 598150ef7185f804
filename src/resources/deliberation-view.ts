import { RESOURCE_MIME_TYPE, registerAppResource } from '@modelcontextprotocol/ext-apps/server';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DELIBERATION_VIEW_URI, deliberationViewHtml } from '../views/deliberation-view.js';

export function registerDeliberationView(server: McpServer): void {
  registerAppResource(
    server,
    'deliberation-view',
    DELIBERATION_VIEW_URI,
    { title: 'Deliberation view', description: 'Shows a deliberation: intents, every agent turn, the refiner’s removals, the response, grades, and preference pairs side by side.', mimeType: RESOURCE_MIME_TYPE },
    async () => ({ contents: [{ uri: DELIBERATION_VIEW_URI, mimeType: RESOURCE_MIME_TYPE, text: deliberationViewHtml() }] }),
  );
}
