// Bundles the two entry points, dist/server.js and dist/cli.js, with their dependencies. Node spends most
// of a cold start resolving and reading hundreds of ES modules (the MCP SDK and zod alone are ~400 ms),
// so a few large files start faster. Code loaded by `import()` stays in its own chunk, loaded at first use.
// Writes build/bundle-meta.json: which source modules each output file holds.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

// Sources find policies/, views/, benchmarks/ and package.json relative to their own file. In the bundle a
// module's code sits in some file directly in dist/, so each module's `import.meta.url` becomes the URL
// its compiled file would have had in dist/, and those paths stay right.
const moduleUrls = {
  name: 'module-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(src + sep)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const compiled = relative(src, args.path).split(sep).join('/').replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(compiled)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(src, 'server.ts'), join(src, 'cli.ts')],
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies inside the bundle still call require() for Node's own modules.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module';\nconst require = __bundleCreateRequire(import.meta.url);" },
  plugins: [moduleUrls],
});

mkdirSync(join(root, 'build'), { recursive: true });
const outputs = Object.fromEntries(
  Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, output]) => [relative(dist, join(root, file)).split(sep).join('/'), Object.keys(output.inputs)]),
);
writeFileSync(join(root, 'build', 'bundle-meta.json'), JSON.stringify(outputs, null, 1) + '\n');
// The views inline ext-apps' browser bundle as text (src/views/assets.ts). A copy in dist/vendor/, with its
// licence, lets an installed package read it without ext-apps and the SDK it names as a peer.
const extApps = createRequire(import.meta.url).resolve('@modelcontextprotocol/ext-apps/app-with-deps');
mkdirSync(join(dist, 'vendor'), { recursive: true });
copyFileSync(extApps, join(dist, 'vendor', 'ext-apps-app-with-deps.js'));
copyFileSync(join(extApps.slice(0, extApps.lastIndexOf(`${sep}dist${sep}`)), 'LICENSE'), join(dist, 'vendor', 'ext-apps-LICENSE'));
// The bin must be runnable after `npm run build`.
chmodSync(join(dist, 'cli.js'), 0o755);
