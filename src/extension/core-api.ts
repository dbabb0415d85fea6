// The one place the extension loads the analysis core. Loaded on first use (not at activation), so the
// extension activates without parsing the analysis code; every feature goes through loadAnalysisApi().
import type * as Analysis from '../core/analysis/index';

export type AnalysisApi = typeof Analysis;

let api: Promise<AnalysisApi> | undefined;

export function loadAnalysisApi(): Promise<AnalysisApi> {
  api ??= import('../core/analysis/index');
  return api;
}
