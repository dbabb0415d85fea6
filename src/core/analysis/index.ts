// Public entry points of the freeze analysis (types in ./types). Used by the CLI, the VS Code extension,
// the Python-script rules and the fine-tune verifier.
export * from './types';
export { parseFreezeConfig, resolveModelPath, locateInConfig, lineColumn, defaultFreezeConfig, defaultVerifySettings, CONFIG_KEYS } from './freeze-config';
export { resolveRuntime } from './runtimes/resolve';
export { analyze, analyzeDetailed } from './analyze';
export { matchPattern } from './selection';
export { compilePattern, patternFor, escapeRegex } from './patterns';
export { configEditsToTextEdits, applyConfigEdits } from './fixes';
export { toSarif } from './sarif';
export { renderReport, answerSeedQuestion } from './report-text';
export { FINDING_CATALOG } from './findings/catalog';
export { GraphIndex, reachableOps } from './graph-reachability';
