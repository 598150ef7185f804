// The MCP App: waits for the host to hand over the tool result, then renders the record in it.
(async function () {
  const { App, applyDocumentTheme, applyHostStyleVariables } = globalThis.__aidsafeExtApps;
  const root = document.getElementById('root');
  const app = new App({ name: 'aidsafe-deliberation-view', version: '1' }, {}, { autoResize: true });

  const applyTheme = (context) => {
    if (context?.theme) applyDocumentTheme(context.theme);
    if (context?.styles?.variables) applyHostStyleVariables(context.styles.variables);
  };
  app.ontoolresult = (result) => {
    let record = result.structuredContent;
    if (!record) {
      const text = (result.content || []).find((c) => c.type === 'text');
      try {
        record = text ? JSON.parse(text.text) : undefined;
      } catch {
        record = undefined;
      }
    }
    globalThis.AidsafeView.render(root, result.isError ? undefined : record);
  };
  app.onhostcontextchanged = applyTheme;
  await app.connect();
  applyTheme(app.getHostContext());
})();
