// No variable gets a gradient: the patterns froze everything (or the allow-list names nothing that exists).
import type { FindingRule } from './rule';

export const nothingTrains: FindingRule = (p) => {
  if (p.variables.some((v) => v.reason === 'gradient')) return [];
  const trainableInModel = p.index.modelVariables.some((v) => v.trainable);
  if (!trainableInModel) return [];
  return [
    {
      code: 'nothing-trains',
      severity: 'warning',
      message: 'With this config no variable is trained: every trainable variable is frozen or left out of the allow-list.',
      target: { kind: 'config', name: p.config.train !== null ? 'train' : 'freeze' },
      fixes: p.config.train !== null ? [{ title: 'Remove the "train" allow-list', isPreferred: true, edits: [{ kind: 'remove', path: ['train'] }] }] : [],
      configPath: [p.config.train !== null ? 'train' : 'freeze'],
    },
  ];
};
