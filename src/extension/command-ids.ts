// Every command id, in one place, mirroring contributes.commands in package.json (src/extension/manifest.mjs).
export const COMMANDS = {
  openModel: 'freezeInspector.openModel',
  createConfig: 'freezeInspector.createConfig',
  analyze: 'freezeInspector.analyze',
  verify: 'freezeInspector.verify',
  selectRuntime: 'freezeInspector.selectRuntime',
  exportReport: 'freezeInspector.exportReport',
  showLog: 'freezeInspector.showLog',
  refresh: 'freezeInspector.refresh',
  pickConfig: 'freezeInspector.pickConfig',
  freezeLayer: 'freezeInspector.freezeLayer',
  unfreezeLayer: 'freezeInspector.unfreezeLayer',
  showInInspector: 'freezeInspector.showInInspector',
  copyCheckpointKey: 'freezeInspector.copyCheckpointKey',
  revealFinding: 'freezeInspector.revealFinding',
  extractConfig: 'freezeInspector.extractConfig',
} as const;

export const VIEWS = {
  models: 'freezeInspector.models',
  findings: 'freezeInspector.findings',
} as const;
