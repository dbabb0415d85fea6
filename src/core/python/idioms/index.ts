// The script's idioms, built once per analysis from the collected facts.
import type { Runtime } from '../../analysis/types';
import { LineIndex } from '../text';
import type { Range, RuntimeGuess } from '../types';
import type { Fact } from './collect';
import { Bindings } from './env';
import { type KerasModel, buildKeras } from './keras';
import { NameResolver } from './names';
import { detectRuntime, readPragmas } from './runtime';
import { type Tf1Model, buildTf1, withTextFlags } from './tf1';

export interface ScriptModel {
  readonly src: string;
  readonly lines: LineIndex;
  readonly facts: readonly Fact[];
  readonly names: NameResolver;
  readonly bindings: Bindings;
  readonly runtime: RuntimeGuess;
  readonly tf1: Tf1Model;
  readonly keras: KerasModel;
  readonly pragmas: ReturnType<typeof readPragmas>;
  range(s: number, e: number): Range;
  text(x: { s: number; e: number }): string;
}

/**
 * Builds the passes over the facts. `reuse` is the model of the same fact objects before an edit that only moved
 * them (FactCollector.unchanged): its passes hold references to those objects, whose offsets were shifted in
 * place, so only what is read from the text itself is redone.
 */
export function buildScriptModel(src: string, facts: readonly Fact[], lines: LineIndex | null, runtimeSetting: Runtime | null, reuse?: ScriptModel): ScriptModel {
  const idx = lines ?? new LineIndex(src);
  const same = reuse !== undefined && reuse.facts === facts;
  const names = same ? reuse.names : new NameResolver(facts);
  const bindings = same ? reuse.bindings : new Bindings(facts);
  return {
    src,
    lines: idx,
    facts,
    names,
    bindings,
    runtime: detectRuntime(src, facts, names, runtimeSetting),
    tf1: same ? withTextFlags(reuse.tf1, src) : buildTf1(facts, names, bindings, src),
    keras: same ? reuse.keras : buildKeras(facts, names, src),
    pragmas: readPragmas(src),
    range: (s, e) => ({ start: idx.positionAt(s), end: idx.positionAt(e) }),
    text: (x) => src.slice(x.s, x.e),
  };
}

export type { Fact } from './collect';
export type { KerasModel } from './keras';
export type { Tf1Model } from './tf1';
