// analyze(): runtime, per-variable and per-BatchNorm predictions, findings with fixes.
import type { Model } from '../model/ir';
import { predict, type Prediction } from './predict';
import { runFindingRules } from './findings/index';
import type { GraphIndex } from './graph-reachability';
import type { AnalysisResult, FreezeConfig } from './types';

export interface AnalyzeOptions {
  /** Reuse a graph index across analyses of the same TF1 model (the editor re-analyses on every config edit). */
  readonly graphIndex?: GraphIndex;
}

/** Predicts one training step of `model` under `config`. With `configText`, findings get their place in the file. */
export function analyze(model: Model, config: FreezeConfig, configText?: string, options: AnalyzeOptions = {}): AnalysisResult {
  return analyzeDetailed(model, config, configText, options).result;
}

export function analyzeDetailed(model: Model, config: FreezeConfig, configText?: string, options: AnalyzeOptions = {}): { result: AnalysisResult; prediction: Prediction } {
  const prediction = predict(model, config, options.graphIndex ? { graphIndex: options.graphIndex } : {});
  const findings = runFindingRules(prediction, configText);
  return {
    prediction,
    result: {
      runtime: prediction.runtime,
      runtimeWhy: prediction.runtimeWhy,
      variables: prediction.variables,
      batchNorms: prediction.batchNorms.map((a) => a.prediction),
      findings,
    },
  };
}
