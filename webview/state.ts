// Webview state that survives hiding and reloading the panel (VS Code's getState/setState).
import type { InspectorTab, VariableRow, WebviewState } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const vscode = acquireVsCodeApi();

const TABS: readonly InspectorTab[] = ['summary', 'variables', 'batchnorm', 'findings', 'verification'];

export const DEFAULT_STATE: WebviewState = { tab: 'summary', search: '', sortColumn: 'key', sortAscending: true, scrollTop: 0 };

export function loadState(): WebviewState {
  const s = vscode.getState() as Partial<WebviewState> | undefined;
  if (!s || typeof s !== 'object') return DEFAULT_STATE;
  return {
    tab: TABS.includes(s.tab as InspectorTab) ? (s.tab as InspectorTab) : DEFAULT_STATE.tab,
    search: typeof s.search === 'string' ? s.search : '',
    sortColumn: typeof s.sortColumn === 'string' ? (s.sortColumn as keyof VariableRow) : 'key',
    sortAscending: s.sortAscending !== false,
    scrollTop: typeof s.scrollTop === 'number' ? s.scrollTop : 0,
  };
}

export function saveState(state: WebviewState): void {
  vscode.setState(state);
}

export { TABS };
