// The model inspector webview: summary, variables (virtualized), BatchNorm behaviour, findings with fix
// buttons, and verification results. Talks to the extension only through src/shared/protocol.ts.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import './style.css';
import type { FromWebview, InspectorData, InspectorTab, ToWebview, VerifyResult, WebviewState } from '../src/shared/protocol';
import { TABS, loadState, saveState, vscode } from './state';
import { VariablesTable, el } from './variables-table';

let state: WebviewState = loadState();
let data: InspectorData | null = null;
const app = document.getElementById('app')!;

function post(m: FromWebview): void {
  vscode.postMessage(m);
}

function setState(patch: Partial<WebviewState>): void {
  state = { ...state, ...patch };
  saveState(state);
}

const table = new VariablesTable({
  onSortChange: (sortColumn, sortAscending) => setState({ sortColumn, sortAscending }),
  onScroll: (scrollTop) => setState({ scrollTop }),
  onCopy: (key) => post({ type: 'copyKey', key }),
});

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'loading':
      if (!data) app.replaceChildren(el('p', 'muted', `Loading ${m.path}…`));
      break;
    case 'error':
      app.setAttribute('aria-busy', 'false');
      app.replaceChildren(errorBox(m.message));
      break;
    case 'data':
      data = m.data;
      render(m.data);
      break;
    case 'verifying': {
      const box = document.getElementById('verify-status');
      if (box) box.textContent = m.message;
      break;
    }
    case 'reveal':
      selectTab(m.tab);
      if (m.search !== undefined) {
        const field = document.getElementById('var-search') as HTMLInputElement | null;
        if (field) field.value = m.search;
        setState({ search: m.search });
        table.setQuery(m.search);
      }
      break;
  }
});

function errorBox(message: string): HTMLElement {
  const box = el('div', 'error-box');
  box.setAttribute('role', 'alert');
  box.append(el('span', 'codicon codicon-error'), el('span', '', ` ${message}`));
  return box;
}

function render(d: InspectorData): void {
  app.setAttribute('aria-busy', 'false');
  const header = el('header', 'header');
  const title = el('h1', '', d.summary.title);
  const badge = document.createElement('vscode-badge');
  badge.textContent = d.summary.format;
  const actions = el('div', 'actions');
  const verify = document.createElement('vscode-button');
  verify.id = 'verify-button';
  verify.textContent = 'Verify by fine-tuning';
  verify.setAttribute('icon', 'beaker');
  verify.addEventListener('click', () => {
    if (!d.verifyDisabled) post({ type: 'verify' });
  });
  if (d.verifyDisabled) {
    verify.setAttribute('disabled', '');
    verify.title = d.verifyDisabled;
  }
  const pick = document.createElement('vscode-button');
  pick.setAttribute('secondary', '');
  pick.textContent = d.summary.configPath ? `Config: ${d.summary.configPath}` : 'No freeze config';
  pick.addEventListener('click', () => post({ type: 'pickConfig' }));
  actions.append(pick, verify);
  header.append(title, badge, actions);

  const tabs = document.createElement('vscode-tabs');
  tabs.id = 'tabs';
  const panels: Record<InspectorTab, [string, HTMLElement]> = {
    summary: ['Summary', summaryView(d)],
    variables: [`Variables (${d.variables.length})`, variablesView(d)],
    batchnorm: [`BatchNorm (${d.batchNorms.length})`, batchNormView(d)],
    findings: [`Findings (${d.findings.length})`, findingsView(d)],
    verification: ['Verification', verificationView(d.verification, d.verifyDisabled)],
  };
  for (const t of TABS) {
    const h = document.createElement('vscode-tab-header');
    h.setAttribute('slot', 'header');
    h.dataset.tab = t;
    h.textContent = panels[t][0];
    const p = document.createElement('vscode-tab-panel');
    p.append(panels[t][1]);
    tabs.append(h, p);
  }
  (tabs as unknown as { selectedIndex: number }).selectedIndex = TABS.indexOf(state.tab);
  tabs.addEventListener('vsc-tabs-select', (e) => {
    const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
    setState({ tab: TABS[i] ?? 'summary' });
    if (TABS[i] === 'variables') requestAnimationFrame(() => table.setScrollTop(state.scrollTop));
  });
  app.replaceChildren(header, tabs);
  if (state.tab === 'variables') requestAnimationFrame(() => table.setScrollTop(state.scrollTop));
}

function selectTab(tab: InspectorTab): void {
  const tabs = document.getElementById('tabs') as (HTMLElement & { selectedIndex: number }) | null;
  setState({ tab });
  if (tabs) tabs.selectedIndex = TABS.indexOf(tab);
}

function summaryView(d: InspectorData): HTMLElement {
  const s = d.summary;
  const box = el('section', 'summary');
  box.id = 'summary';
  const rows: [string, string][] = [
    ['Path', s.path],
    ['Format', s.format],
    ['TensorFlow', s.tensorflowVersion ?? 'not recorded'],
    ['Keras', s.kerasVersion ?? 'not recorded'],
    ['Runtime', s.runtime],
    ['Freeze config', s.configPath ?? 'none'],
    ['Layers', s.layerCount.toLocaleString('en-US')],
    ['Variables', s.variableCount.toLocaleString('en-US')],
    ['BatchNorm layers', s.batchNormCount.toLocaleString('en-US')],
    ['Parameters', s.paramsTotal.toLocaleString('en-US')],
    ['Trained', s.paramsTrainable.toLocaleString('en-US')],
    ['Frozen', s.paramsFrozen.toLocaleString('en-US')],
  ];
  const dl = el('dl', 'facts');
  for (const [k, v] of rows) dl.append(el('dt', '', k), el('dd', '', v));
  box.append(dl);
  if (s.paramsTotal > 0) {
    const bar = el('div', 'param-bar');
    bar.title = `${s.paramsTrainable.toLocaleString('en-US')} trained / ${s.paramsFrozen.toLocaleString('en-US')} frozen`;
    const fill = el('div', 'param-fill');
    fill.style.width = `${(100 * s.paramsTrainable) / s.paramsTotal}%`;
    bar.append(fill);
    box.append(bar);
  }
  if (s.warnings.length) {
    box.append(el('h2', '', 'Reader warnings'));
    const ul = el('ul', 'warnings');
    for (const w of s.warnings) ul.append(el('li', '', w));
    box.append(ul);
  }
  return box;
}

function variablesView(d: InspectorData): HTMLElement {
  const box = el('section', 'variables');
  const search = document.createElement('vscode-textfield') as HTMLElement & { value: string };
  search.id = 'var-search';
  search.setAttribute('placeholder', 'Filter by key, layer or role');
  search.value = state.search;
  search.addEventListener('input', () => {
    setState({ search: search.value });
    table.setQuery(search.value);
  });
  table.setRows(d.variables);
  table.setSort(state.sortColumn, state.sortAscending);
  table.setQuery(state.search);
  box.append(search, table.element);
  return box;
}

const BEHAVIOUR_ICON: Record<string, string> = {
  updating: 'pulse',
  frozen: 'lock',
  drifting: 'warning',
  inference: 'debug-pause',
  dynamic: 'question',
  unknown: 'circle-outline',
};

function batchNormView(d: InspectorData): HTMLElement {
  const box = el('section', 'batchnorm');
  if (!d.batchNorms.length) {
    box.append(el('p', 'muted', 'This model has no BatchNormalization layers.'));
    return box;
  }
  const t = el('table', 'bn-table');
  t.id = 'bn-table';
  const head = el('tr');
  for (const h of ['Layer', 'Normalizes with', 'Moving stats update', 'γ/β trained', 'Behaviour', 'Why']) head.append(el('th', '', h));
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(head);
  for (const b of d.batchNorms) {
    const tr = el('tr', `bn-${b.behaviour}`);
    const behaviour = el('td', 'behaviour');
    behaviour.append(el('span', `codicon codicon-${BEHAVIOUR_ICON[b.behaviour] ?? 'circle-outline'}`), el('span', '', ` ${b.behaviour}`));
    tr.append(el('td', 'mono', b.layer), el('td', '', b.normalizesWith), el('td', '', b.movingStatsUpdate), el('td', '', b.gammaBetaTrained), behaviour, el('td', 'why', b.explanation));
    t.tBodies[0]!.append(tr);
  }
  box.append(t);
  return box;
}

function findingsView(d: InspectorData): HTMLElement {
  const box = el('section', 'findings');
  box.id = 'findings';
  if (d.findingsNote) box.append(el('p', 'muted', d.findingsNote));
  if (!d.findings.length && !d.findingsNote) box.append(el('p', 'muted', 'No findings: this config does what it says.'));
  for (const f of d.findings) {
    const card = el('article', `finding sev-${f.severity}`);
    const icon = el('span', `codicon codicon-${f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info'}`);
    const head = el('div', 'finding-head');
    const code = el('a', 'code', f.code);
    code.href = '#';
    code.title = 'Show in the config';
    code.addEventListener('click', (e) => {
      e.preventDefault();
      post({ type: 'revealFinding', findingId: f.id });
    });
    head.append(icon, code);
    card.append(head, el('p', 'message', f.message));
    if (f.fixes.length) {
      const fixes = el('div', 'fixes');
      for (const fix of f.fixes) {
        const b = document.createElement('vscode-button');
        b.className = 'fix-button';
        b.textContent = fix.title + (fix.preferred ? ' (recommended)' : '');
        if (!fix.preferred) b.setAttribute('secondary', '');
        b.addEventListener('click', () => post({ type: 'applyFix', findingId: f.id, fixId: fix.id }));
        fixes.append(b);
      }
      card.append(fixes);
    }
    box.append(card);
  }
  return box;
}

function verificationView(v: VerifyResult | null, disabled: string | null): HTMLElement {
  const box = el('section', 'verification');
  box.id = 'verification';
  if (disabled) {
    const note = el('p', 'notice');
    note.id = 'verify-disabled';
    note.append(el('span', 'codicon codicon-shield'), el('span', '', ` ${disabled}`));
    box.append(note);
  }
  const status = el('p', v ? (v.disagreements ? 'headline bad' : 'headline good') : 'muted');
  status.id = 'verify-status';
  status.setAttribute('role', 'status');
  box.append(status);
  if (!v) {
    status.textContent = 'Not verified yet. "Verify by fine-tuning" runs a short local fine-tune and compares what changed with the prediction.';
    return box;
  }
  const agreed = v.variables.filter((o) => o.agree).length;
  status.replaceChildren(
    el('span', `codicon codicon-${v.disagreements ? 'error' : 'pass-filled'}`),
    el('span', '', ` ${agreed} of ${v.variables.length} variables agree with the prediction, ${v.disagreements} disagree.`),
  );
  const facts = el('dl', 'facts verify-facts');
  const rows: [string, string][] = [
    ['Engine', v.engine === 'python' ? 'your TensorFlow (Python)' : 'TensorFlow.js'],
    ['Engine detail', v.engineDetail],
    ['Runtime', v.runtime],
    ['Run', `${v.steps} steps, batch ${v.batchSize}, ${v.data}`],
    ['Time to first step', `${(v.timeToFirstStepMs / 1000).toFixed(1)} s`],
  ];
  for (const [k, val] of rows) facts.append(el('dt', '', k), el('dd', '', val));
  box.append(facts);
  box.append(plot('loss per step', v.loss));
  if (v.batchNorms.length) box.append(bars('train/inference gap per BatchNorm layer (before → after)', v.batchNorms.map((b) => [b.layer, b.trainInferenceGapBefore, b.trainInferenceGapAfter])));
  if (v.batchNorms.length) {
    const bt = el('table', 'verify-bn-table');
    const bh = el('tr');
    for (const h of ['BatchNorm', 'Ran with', 'Moving stats updated', 'moving_mean drift', 'train/inference gap before → after']) bh.append(el('th', '', h));
    bt.append(el('thead'), el('tbody'));
    bt.tHead!.append(bh);
    for (const b of v.batchNorms) {
      const tr = el('tr');
      tr.append(el('td', 'mono', b.layer), el('td', '', `${b.normalizedWith} statistics`), el('td', '', b.updatedMovingStats ? 'yes' : 'no'), el('td', '', b.movingMeanDrift.toPrecision(3)), el('td', '', `${b.trainInferenceGapBefore.toPrecision(3)} → ${b.trainInferenceGapAfter.toPrecision(3)}`));
      bt.tBodies[0]!.append(tr);
    }
    box.append(bt);
  }
  const t = el('table', 'verify-table');
  const head = el('tr');
  for (const h of ['Variable', 'Predicted', 'Observed', 'max |Δ|', '']) head.append(el('th', '', h));
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(head);
  // Disagreements first: they are what the user came for.
  const ordered = [...v.variables].sort((a, b) => Number(a.agree) - Number(b.agree));
  for (const r of ordered) {
    const tr = el('tr', r.agree ? 'agree' : 'disagree');
    const mark = el('td');
    const icon = el('span', `codicon codicon-${r.agree ? 'pass' : 'error'}`);
    icon.setAttribute('aria-label', r.agree ? 'agrees' : 'disagrees');
    mark.append(icon);
    const predicted = r.predicted === null ? 'no prediction' : r.predicted ? `changes (${r.predictedReason ?? ''})` : `stays (${r.predictedReason ?? ''})`;
    // The variable's name reads better than an object-graph checkpoint key (variables/0/.ATTRIBUTES/...): key in the tooltip.
    const name = el('td', 'mono', r.name && r.name !== r.key ? r.name : r.key);
    name.title = r.key;
    const observed = el('td', '', r.observed ? 'changed' : 'unchanged');
    if (r.note) observed.title = r.note;
    tr.append(name, el('td', '', predicted), observed, el('td', '', r.maxAbsDelta.toPrecision(3)), mark);
    t.tBodies[0]!.append(tr);
  }
  box.append(t);
  for (const w of v.warnings) box.append(el('p', 'muted', w));
  return box;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Paired horizontal bars per category (before / after), values printed, so the chart reads without colour. */
function bars(name: string, rows: readonly [string, number, number][]): HTMLElement {
  const fig = el('figure', 'plot bars');
  const max = Math.max(1e-12, ...rows.flatMap(([, a, b]) => [a, b].filter(Number.isFinite)));
  const list = el('div', 'bar-rows');
  for (const [label, before, after] of rows) {
    const row = el('div', 'bar-row');
    row.append(el('span', 'bar-label mono', label));
    const track = el('span', 'bar-track');
    for (const [cls, value] of [['before', before], ['after', after]] as const) {
      const bar = el('span', `bar ${cls}`);
      bar.style.width = `${Number.isFinite(value) ? Math.max(1, (100 * value) / max) : 0}%`;
      track.append(bar);
    }
    row.append(track, el('span', 'bar-value', `${before.toPrecision(3)} → ${after.toPrecision(3)}`));
    list.append(row);
  }
  fig.append(list, el('figcaption', '', name));
  return fig;
}

/** A small line plot drawn as SVG elements (no inline styles: colours come from the stylesheet). */
function plot(name: string, values: readonly number[]): HTMLElement {
  const fig = el('figure', 'plot');
  const w = 360;
  const h = 120;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', name);
  const finite = values.filter(Number.isFinite);
  if (finite.length > 1) {
    const min = Math.min(...finite);
    const max = Math.max(...finite);
    const span = max - min || 1;
    const pts = values.map((y, i) => `${(i / (values.length - 1)) * (w - 8) + 4},${h - 4 - ((y - min) / span) * (h - 8)}`).join(' ');
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts);
    line.setAttribute('class', 'plot-line');
    svg.append(line);
  }
  fig.append(svg, el('figcaption', '', `${name}${finite.length ? ` (${finite[0]!.toPrecision(3)} → ${finite[finite.length - 1]!.toPrecision(3)})` : ''}`));
  return fig;
}

post({ type: 'ready' });
