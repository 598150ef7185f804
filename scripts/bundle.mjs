// Builds the Claude Desktop extension (an MCP Bundle, .mcpb): manifest.json and what the server reads at
// run time — the built dist/ (no source maps), package.json (its version), benchmarks/, policies/, views/
// and the runtime dependencies — zipped with the licence. `npm run bundle` builds first.
// Output: build/aidsafe-mcp-<version>.mcpb (override with --out PATH).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { deflateRawSync } from 'node:zlib';

function fail(message) {
  process.stderr.write(`bundle: ${message}\n`);
  process.exit(1);
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data) {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A plain zip archive (deflate, no zip64: a bundle has far fewer than 65,535 files and 4 GB). */
function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const DOS_DATE = (1 << 5) | 1 | ((2025 - 1980) << 9); // fixed timestamps: the same input gives the same bundle
  for (const { name, data, mode } of entries) {
    const packed = deflateRawSync(data, { level: 9 });
    const stored = packed.length >= data.length;
    const body = stored ? data : packed;
    const crc = crc32(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the executable bit survives
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(((mode & 0o777) | 0o100000) << 16 >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, 'build', `${pkg.name}-${pkg.version}.mcpb`);

if (manifest.version !== pkg.version) fail(`manifest.json version ${manifest.version} differs from package.json version ${pkg.version}`);
if (!existsSync(join(root, manifest.server.entry_point))) fail(`${manifest.server.entry_point} is missing: run \`npm run build\` first`);

const stage = join(root, 'build', 'bundle');
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
/** What the server reads at run time (src/paths.ts, src/version.ts, src/views/assets.ts), and the licence. */
const BUNDLED = ['manifest.json', 'package.json', 'LICENSE', 'dist', 'benchmarks', 'policies', 'views'];
for (const entry of [...BUNDLED, 'package-lock.json']) {
  cpSync(join(root, entry), join(stage, entry), { recursive: true, filter: (src) => !src.endsWith('.map') });
}
// Runtime dependencies only, from the npm cache when it has them; no install scripts run. The lock file is
// only needed for the install.
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: stage, stdio: 'inherit', shell: process.platform === 'win32' });
rmSync(join(stage, 'package-lock.json'));
rmSync(join(stage, 'node_modules', '.package-lock.json'), { force: true });

mkdirSync(dirname(out), { recursive: true });
const files = walk(stage);
writeFileSync(out, zip(files.map((path) => ({ name: relative(stage, path).split(sep).join('/'), data: readFileSync(path), mode: statSync(path).mode }))));
process.stdout.write(`${out}: ${files.length} files, ${(statSync(out).size / 1e6).toFixed(1)} MB\n`);
