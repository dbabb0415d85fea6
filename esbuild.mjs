// Builds every bundle: the extension host entry, the CLI, the fine-tune worker and the webview.
// The build also enforces the architecture: a file under src/core, src/shared, src/cli, src/worker or
// webview that imports 'vscode' fails the build (only src/extension may talk to VS Code).
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const root = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(import.meta.url);

const vscodeOnlyInExtension = {
  name: 'vscode-only-in-extension',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, (args) => {
      const rel = path.relative(root, args.importer);
      if (!rel.startsWith(`src${path.sep}extension${path.sep}`)) {
        return { errors: [{ text: `${rel} imports 'vscode': only src/extension/ may (the core is vscode-free)` }] };
      }
      return { path: 'vscode', external: true };
    });
  },
};

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  plugins: [vscodeOnlyInExtension],
  legalComments: 'none',
};

// web-tree-sitter's ES-module build reads import.meta.url, which is empty in a CommonJS bundle: use its
// CommonJS build so the grammar's wasm resolves next to the bundle.
const node = {
  ...common,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  alias: { 'web-tree-sitter': './node_modules/web-tree-sitter/web-tree-sitter.cjs' },
};

const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: ['vscode', '@tensorflow/tfjs-node'] },
  // The CLI: dist/cli.js plus the heavy commands as sibling bundles it requires on demand (see src/cli/main.ts).
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', external: ['@tensorflow/tfjs-node'], define: { 'process.env.FI_CLI_BUNDLE': '"1"' } },
  {
    ...node,
    entryPoints: { 'cli-verify': 'src/cli/commands/verify.ts', 'cli-check-script': 'src/cli/commands/check-script.ts' },
    outdir: 'dist',
    external: ['@tensorflow/tfjs-node'],
  },
  { ...node, entryPoints: { 'finetune-worker': 'src/worker/finetune-worker.ts' }, outdir: 'dist', external: ['@tensorflow/tfjs-node'] },
  { ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: { webview: 'webview/main.ts' }, outdir: 'dist' },
].filter((b) => Object.values(b.entryPoints).every((e) => existsSync(path.join(root, e))));

function copyAssets() {
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  const assets = [
    ['node_modules/web-tree-sitter/web-tree-sitter.wasm', 'dist/web-tree-sitter.wasm'],
    ['node_modules/tree-sitter-python/tree-sitter-python.wasm', 'dist/tree-sitter-python.wasm'],
    ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm', 'dist/tfjs-backend-wasm.wasm'],
    ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm', 'dist/tfjs-backend-wasm-simd.wasm'],
    // The threaded build: its binary, and the Emscripten script each pthread worker loads (src/core/finetune/tfjs/wasm-threads.ts).
    ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm', 'dist/tfjs-backend-wasm-threaded-simd.wasm'],
    ['node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js', 'dist/tfjs-backend-wasm-threaded-simd.js'],
    ['node_modules/@vscode/codicons/dist/codicon.css', 'dist/codicon.css'],
    ['node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/codicon.ttf'],
  ];
  for (const [from, to] of assets) cpSync(path.join(root, from), path.join(root, to));
  // The pthread worker script, which the package ships only as a string export: written out as a file so the
  // threaded backend never needs a temporary one.
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
  writeFileSync(path.join(root, 'dist/tfjs-backend-wasm-threaded-simd.worker.js'), wasmWorkerContents);
}

/**
 * src/core/finetune/kernels/simd.wat -> dist/fi-simd.wasm (the engine's SIMD loops; see kernels/simd.ts), and
 * dist/fi-simd-shared.wasm, the same loops importing a shared memory (the threaded wasm backend's).
 */
async function assembleSimd() {
  const wabt = await require('wabt')();
  const src = path.join(root, 'src/core/finetune/kernels/simd.wat');
  const text = readFileSync(src, 'utf8');
  const importLine = '(import "env" "memory" (memory 1))';
  if (!text.includes(importLine)) throw new Error(`${src}: expected the line ${importLine}`);
  // wabt.js's validate() ignores the threads feature and rejects shared memories: the code is validated on
  // the plain variant (the two differ only in the import) and the shared one is checked by compiling it.
  const variants = [
    ['fi-simd.wasm', text, { simd: true }, true],
    ['fi-simd-shared.wasm', text.replace(importLine, '(import "env" "memory" (memory 1 65536 shared))'), { simd: true, threads: true }, false],
  ];
  for (const [file, wat, features, validate] of variants) {
    const mod = wabt.parseWat(src, wat, features);
    if (validate) mod.validate();
    const bytes = Buffer.from(mod.toBinary({}).buffer);
    new WebAssembly.Module(bytes);
    writeFileSync(path.join(root, 'dist', file), bytes);
    mod.destroy();
  }
}

copyAssets();
await assembleSimd();
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  const t0 = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`built ${builds.length} bundles in ${Date.now() - t0} ms`);
}
