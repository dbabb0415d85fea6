// Which TF1 graph variables belong to an optimizer rather than to the model.
//
// The rule, in order (a variable in `trainable_variables` is never an optimizer variable):
// 1. Slots, from the graph: every training op `(Resource)(Sparse)Apply*` (ApplyMomentum, ApplyAdam,
//    ResourceApplyRMSProp, ...) takes the primary variable as input 0 and its slots as further inputs. A
//    variable V reaching input k >= 1 (through Identity/ReadVariableOp/Switch/Enter) whose name is
//    `<primary>/<one more component>` is a slot of that primary: TF's slot_creator names slots
//    `<primary op name>/<optimizer name>` ('D/dense/kernel/Momentum', '.../Adam', '.../Adam_1').
// 2. Non-slot optimizer state, from the graph: the optimizer's name scope O is the part of an Apply op's
//    name before '/update_' ('Adam/update_D/dense/kernel/ApplyAdam' -> 'Adam'). A non-trainable variable
//    written (Assign*/Assign*VariableOp, not its initializer, not a Saver restore) by an op named O or
//    'O/...' is optimizer state: Adam's beta1_power/beta2_power ('Adam/Assign'). Any other variable input of
//    an Apply op that is not a slot (e.g. beta1_power passed directly) is state too. The global step
//    (`global_step` collection, or named 'global_step') is not: the user creates it and apply_gradients only
//    increments it, so it stays a model variable (as TF's tf.global_variables() lists it).
// 3. Without any Apply op in the graph (e.g. an inference graph whose `variables` collection still lists
//    slots), names decide: `<trainable variable>/<Momentum|Adam|Adam_1|RMSProp|RMSProp_1|Adagrad|...>` is a
//    slot, `beta1_power`/`beta2_power` (any scope) are state.
// 4. Keras 1.x/2.x (V1) optimizers build no Apply ops: variables under 'training/<Optimizer>/' and
//    '<Optimizer>/' for the Keras optimizer class names (SGD, Adam, RMSprop, ...) are state.
import type { GraphIndex } from './graph-index';
import { ASSIGN_OPS, scopeOf } from './graph-index';

export interface OptimizerVariables {
  /** Slot variable name -> its primary variable's name. */
  readonly slots: ReadonlyMap<string, string>;
  /** Non-slot optimizer state (beta1_power, global_step written by the optimizer, Keras iterations, ...). */
  readonly state: ReadonlySet<string>;
  /** Name scopes of the optimizers found ('Adam', 'train_op', ...). */
  readonly optimizerScopes: readonly string[];
}

const APPLY_OP = /^(Resource)?(Sparse)?Apply[A-Z]\w*$/;
const KNOWN_SLOT_SUFFIX = /^(Momentum|Adam|Adam_1|RMSProp|RMSProp_1|Adagrad|AdagradDA|AdagradDA_1|Adadelta|Adadelta_1|Ftrl|Ftrl_1|AdaMax|AdaMax_1|ProximalAdagrad|LazyAdam|LazyAdam_1|Nadam|Nadam_1)$/;
const KNOWN_STATE_NAME = /^(beta1_power|beta2_power)(_\d+)?$/;
const KERAS_V1_OPTIMIZER = /^(training(_\d+)?\/)?(SGD|Adam|RMSprop|Adagrad|Adadelta|Adamax|Nadam|Ftrl)(_\d+)?\//;

/**
 * @param variables names of the graph's variables (op names)
 * @param trainable names of the variables in `trainable_variables`
 * @param initializers initializer op names (VariableDef.initializer_name), excluded as writers
 * @param globalStep members of the `global_step` collection (never optimizer variables)
 */
export function findOptimizerVariables(
  g: GraphIndex,
  variables: readonly string[],
  trainable: ReadonlySet<string>,
  initializers: ReadonlySet<string>,
  globalStep: ReadonlySet<string> = new Set(),
): OptimizerVariables {
  const isVar = new Set(variables);
  const slots = new Map<string, string>();
  const state = new Set<string>();
  const scopes = new Set<string>();
  let applyOps = 0;

  for (const n of g.nodes) {
    if (!APPLY_OP.test(n.op)) continue;
    applyOps++;
    const u = n.name.indexOf('/update_');
    scopes.add(u > 0 ? n.name.slice(0, u) : scopeOf(n.name));
    const inputs = g.dataInputs(n);
    const primary = inputs[0] === undefined ? null : g.resolveVariable(inputs[0]);
    for (let k = 1; k < inputs.length; k++) {
      const v = g.resolveVariable(inputs[k]);
      if (!v || !isVar.has(v.name) || trainable.has(v.name) || v === primary) continue;
      const rest = primary && v.name.startsWith(primary.name + '/') ? v.name.slice(primary.name.length + 1) : null;
      if (primary && rest !== null && !rest.includes('/')) slots.set(v.name, primary.name);
      else state.add(v.name);
    }
  }

  if (scopes.size > 0) {
    for (const n of g.nodes) {
      if (!ASSIGN_OPS.has(n.op) || initializers.has(n.name)) continue;
      if (![...scopes].some((o) => n.name === o || n.name.startsWith(o + '/'))) continue;
      const target = g.dataInputs(n)[0];
      const v = target === undefined ? null : g.resolveVariable(target);
      if (!v || !isVar.has(v.name) || trainable.has(v.name) || slots.has(v.name) || g.isRestoreWrite(n)) continue;
      if (n.name === `${v.name}/Assign`) continue;
      state.add(v.name);
    }
  }

  if (applyOps === 0) {
    for (const name of variables) {
      if (trainable.has(name)) continue;
      const scope = scopeOf(name);
      const last = name.slice(scope.length ? scope.length + 1 : 0);
      if (scope && trainable.has(scope) && KNOWN_SLOT_SUFFIX.test(last)) slots.set(name, scope);
      else if (KNOWN_STATE_NAME.test(last)) state.add(name);
    }
  }

  for (const name of variables) {
    if (!trainable.has(name) && !slots.has(name) && KERAS_V1_OPTIMIZER.test(name)) state.add(name);
  }
  for (const s of slots.keys()) state.delete(s);
  for (const name of variables) {
    if (globalStep.has(name) || name === 'global_step' || name.endsWith('/global_step')) state.delete(name);
  }

  return { slots, state, optimizerScopes: [...scopes].sort() };
}
