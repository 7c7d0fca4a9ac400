// Bundles the command-line entry points (roles/*.mjs, scripts/*.mjs import dist/bin/) with esbuild:
// Node's module loader spends most of a cron check's start-up resolving and reading ~300 small
// files (zod, yaml, our own dist/); a few chunks cost a fraction of that. tsc stays the type
// checker and still emits dist/ (types, the public API for user roles, the sandbox cli).
// Run by `npm run build` (and so by `npm ci` through `prepare`).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Paths below are the package's, wherever this runs from.
process.chdir(fileURLToPath(new URL('.', import.meta.url)));

const roles = readdirSync('src/roles')
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.schema.ts') && f !== 'index.ts' && f !== 'define.ts')
  .map((f) => `src/roles/${f}`);

// zod re-exports every one of its ~50 message locales (`z.locales`, `z.core.locales`): two thirds
// of its chunk that every start parses. hostkit uses none of them (zod itself configures English,
// imported on its own): the namespace is left with English only (~260 KB less, ~10 ms of a start).
let localeImports = 0;
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      localeImports++;
      return { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

// A native addon (ssh2's sshcrypto.node) is required at run time by its package path, found from the
// chunk through node_modules as any dependency: the bundle cannot hold a .node file.
const nativeBindings = {
  name: 'native-bindings',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const file = join(args.resolveDir, args.path);
      const at = file.lastIndexOf('/node_modules/');
      if (at < 0) throw new Error(`bundle.mjs: native addon outside node_modules: ${file}`);
      return { path: file.slice(at + '/node_modules/'.length), external: true };
    });
  },
};

// The build's identity for caches of what this code computes (src/inventory/loader.ts: validated
// inventories): every source file, the locked dependencies and this script. Any change is a new id.
function buildId() {
  const hash = createHash('sha256');
  const files = ['bundle.mjs', 'package-lock.json', ...readdirSync('src', { recursive: true }).map((f) => join('src', f))].sort();
  for (const file of files) {
    let data;
    try {
      data = readFileSync(file);
    } catch (err) {
      if (err.code === 'EISDIR') continue;
      throw err;
    }
    hash.update(`${file}\0${data.length}\0`).update(data);
  }
  return hash.digest('hex').slice(0, 32);
}

// Chunk names carry a content hash: start empty so no chunk of an earlier build is left behind.
rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: [...['main', 'provision', 'backup', 'recover', 'report'].map((f) => `src/cli/${f}.ts`), ...roles, 'src/index.ts'],
  outdir: 'dist/bin',
  outbase: 'src',
  bundle: true,
  // Shared code goes into chunks, and a dynamic import() stays lazy: a script evaluates only what it reaches.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ssh2 is bundled (its ~30 CommonJS files cost every start ~30 ms of resolving and loading):
  // its native crypto binding stays a file Node loads (nativeBindings), cpu-features a package.
  external: ['cpu-features'],
  // The CommonJS dependencies (handlebars, ssh2) call require() for Node's built-ins; ssh2's
  // poly1305 (emscripten) reads __dirname.
  banner: {
    js:
      "import { createRequire as __hostkitRequire } from 'node:module'; const require = __hostkitRequire(import.meta.url); " +
      "import { fileURLToPath as __hostkitPath } from 'node:url'; const __hostkitDirname = __hostkitPath(new URL('.', import.meta.url));",
  },
  define: { __dirname: '__hostkitDirname', __HOSTKIT_BUILD_ID__: JSON.stringify(buildId()) },
  sourcemap: true,
  legalComments: 'none',
  // Less to parse at every start (~10% of a --help here); names kept for error classes and profiles,
  // source maps for `node --enable-source-maps`.
  minify: true,
  keepNames: true,
  logLevel: 'warning',
  plugins: [zodEnglishOnly, nativeBindings],
});
if (localeImports === 0) throw new Error('bundle.mjs: zod no longer imports ../locales/index.js; update the zod-english-only plugin');
