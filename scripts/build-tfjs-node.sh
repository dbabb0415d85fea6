#!/usr/bin/env bash
# Optional accelerator: build @tensorflow/tfjs-node against the TensorFlow C library that ships inside the
# TensorFlow pip wheel, because its own install script downloads libtensorflow from a host this machine
# cannot reach. Once it is in node_modules the fine-tune engine picks it up automatically
# (src/core/finetune/tfjs/backend.ts) and falls back to the wasm backend when it is absent or fails.
#
#   scripts/build-tfjs-node.sh [PYTHON_WITH_TENSORFLOW]     (default: the tf215 venv of make-fixtures.sh)
#
# Needs: node-gyp's toolchain (g++, make, python3) and the Node headers (/usr/include/node).
# The TF 2.15 wheel's libtensorflow_cc.so.2 exports the C and eager C API that tfjs-node 4.22 binds to
# (tfjs-node was written against TF 2.9's C API: everything our engine uses works; not guaranteed beyond).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${1:-${FI_VENV_HOME:-$HOME/.cache/freeze-inspector/venvs}/tf215/bin/python}"
TF_DIR="$("$PY" -c 'import os, tensorflow as tf; print(os.path.dirname(tf.__file__))' 2>/dev/null)"
[ -f "$TF_DIR/libtensorflow_cc.so.2" ] || { echo "no libtensorflow_cc.so.2 under $TF_DIR" >&2; exit 1; }

cd "$ROOT"
# The package and its dependencies, without its downloading install script, resolved in a scratch project (npm
# will not add a package the project declares as an optional peer with --no-save), then copied into
# node_modules where the project lacks them: tfjs-core, tfjs-layers and tfjs-backend-cpu stay the project's own
# copies (the same 4.22 versions), so tfjs-node registers its backend in the engine's tfjs-core.
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
CORE_VERSION="$(node -p "require('@tensorflow/tfjs-core/package.json').version")"
cat > "$SCRATCH/package.json" <<JSON
{ "name": "fi-tfjs-node-scratch", "private": true,
  "dependencies": { "@tensorflow/tfjs-node": "4.22.0", "@tensorflow/tfjs-core": "$CORE_VERSION" } }
JSON
(cd "$SCRATCH" && npm install --ignore-scripts --no-audit --no-fund --no-package-lock)
node -e '
const fs = require("fs"), path = require("path");
const [from, to] = process.argv.slice(1);
const names = [];
for (const e of fs.readdirSync(from)) {
  if (e.startsWith(".")) continue;
  if (e.startsWith("@")) for (const s of fs.readdirSync(path.join(from, e))) names.push(`${e}/${s}`);
  else names.push(e);
}
let copied = 0;
for (const n of names) {
  if (fs.existsSync(path.join(to, n))) continue;
  fs.cpSync(path.join(from, n), path.join(to, n), { recursive: true });
  copied++;
}
console.log(`copied ${copied} packages into ${to}`);
' "$SCRATCH/node_modules" "$ROOT/node_modules"
PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
mkdir -p "$PKG/deps/include" "$PKG/deps/lib" "$PKG/lib/napi-v8"
cp -r "$TF_DIR/include/tensorflow" "$TF_DIR/include/tsl" "$TF_DIR/include/third_party" "$PKG/deps/include/"
ln -sf "$TF_DIR/libtensorflow_cc.so.2" "$PKG/deps/lib/libtensorflow.so"
ln -sf "$TF_DIR/libtensorflow_cc.so.2" "$PKG/deps/lib/libtensorflow.so.2"
ln -sf "$TF_DIR/libtensorflow_cc.so.2" "$PKG/deps/lib/libtensorflow_cc.so.2"
ln -sf "$TF_DIR/libtensorflow_framework.so.2" "$PKG/deps/lib/libtensorflow_framework.so"
ln -sf "$TF_DIR/libtensorflow_framework.so.2" "$PKG/deps/lib/libtensorflow_framework.so.2"
(cd "$PKG" && npx --yes node-gyp rebuild --nodedir=/usr --napi_build_version=8 --module_name=tfjs_binding --module_path=lib/napi-v8)
cp "$PKG/build/Release/tfjs_binding.node" "$PKG/lib/napi-v8/tfjs_binding.node"
# tfjs-node must share the project's tfjs-core, or its backend registers in another instance.
rm -rf "$PKG/node_modules/@tensorflow/tfjs-core"
node -e "require('@tensorflow/tfjs-node'); console.log('tfjs-node ready: backend', require('@tensorflow/tfjs-core').getBackend())"
