"""TF1 graphs (TF1 SavedModel, `.meta` + checkpoint) in the Python engine: a short fine-tune with the user's own
TensorFlow, the config applied exactly as python/oracle/oracle.py applies it, but with every tensor discovered
from the graph itself (the oracle reads tensor names from the fixtures' expected.json; a user's model has none).

Config semantics (oracle.run_tf1):
- freeze/train: exclude/include patterns on the op names of TRAINABLE_VARIABLES (filter_variables: keep a name
  when no include pattern or ANY include matches, and NO exclude matches; regex = re.search, prefix, glob);
- updateOps: 'all' = get_collection(UPDATE_OPS), 'none' = [], {scopes} = get_collection(UPDATE_OPS, scope) per scope;
- a new GradientDescent (the request's optimizer) minimize(loss, var_list) under control_dependencies(updates);
  an empty var_list still evaluates the loss under those dependencies;
- useSavedTrainOp: true = the train_op-collection entry that runs all the others, 'collection[0]' = exactly
  get_collection('train_op')[0]; freeze/train/updateOps are then ignored;
- `training` is fed to every bool placeholder that decides a cond/select (the BatchNorm training switch);
- trainingOverrides ({scope: bool}): applied to the MetaGraphDef before it is imported, by the oracle's own
  function (fi_common.tf1_apply_training_overrides): inside each BatchNorm layer an entry covers (nearest enclosing
  scope wins), the ops reading the training placeholder read a constant of the entry's value instead; entries
  that cover no BatchNorm, and layers whose flag is a constant in the graph, are reported as not applied.

Discovery:
- training inputs: bool Placeholder/PlaceholderWithDefault reaching the predicate of a Switch/RefSwitch/Select/
  SelectV2/If/StatelessIf through Identity ops, plus the ones the TypeScript reader recorded (request.tf1);
- loss: the tensor tf.gradients(loss) seeded (`gradients/grad_ys_0` = Fill(Shape(loss), 1)), else the scalar
  float output of the training meta graph's signature, else a one-tensor `losses`/`loss` collection; several
  different candidates or none: refused when a train op has to be built (never a guess);
- model output: a serving signature output that exists in the training graph, else the prediction operand of
  the loss (the operand of the first binary op under the loss whose other side depends on placeholders only);
  when none is found the output gap is omitted;
- data: every other Placeholder the fetched ops depend on gets seeded synthetic data of its dtype and shape
  (unknown batch dimension = the request's batch size): N(0,1) for placeholders the model output depends on,
  U(0,1) for the others (targets), as the Keras path does.
"""
import os
import re
import sys
import time

COND_PREDICATE_INPUT = {"Switch": 1, "RefSwitch": 1, "Select": 0, "SelectV2": 0, "If": 0, "StatelessIf": 0}
FUSED = ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
PASS_THROUGH = ("Identity", "Switch", "RefSwitch", "RefIdentity")


class Tf1Error(Exception):
    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


# ---------------------------------------------------------------- config semantics (as the oracle)

def _shared_config_semantics():
    """fi_common (python/fixtures, shipped with the engine) holds the config semantics the oracle uses."""
    folder = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import fi_common  # noqa: PLC0415

    return fi_common


def op_name(tensor_or_op_name):
    n = tensor_or_op_name[1:] if tensor_or_op_name.startswith("^") else tensor_or_op_name
    return re.sub(r":\d+$", "", n)


# ---------------------------------------------------------------- loading

def choose_meta_graph(saved_model_dir):
    """Tags of the meta graph to train: the one tagged 'train', else the one holding a train_op collection or a
    gradients subgraph, else the only one."""
    import os
    from tensorflow.core.protobuf import saved_model_pb2
    pb = os.path.join(saved_model_dir, "saved_model.pb")
    sm = saved_model_pb2.SavedModel()
    try:
        with open(pb, "rb") as f:
            sm.ParseFromString(f.read())
    except Exception as e:  # noqa: BLE001
        raise Tf1Error("engine-failure", f"{pb}: cannot be read as a SavedModel: {e}")
    mgs = list(sm.meta_graphs)
    tagged = [m for m in mgs if "train" in m.meta_info_def.tags]
    if len(tagged) == 1:
        return list(tagged[0].meta_info_def.tags), sm
    with_train = [m for m in mgs if "train_op" in m.collection_def
                  or any(n.name.startswith("gradients/") for n in m.graph_def.node)]
    if len(with_train) == 1:
        return list(with_train[0].meta_info_def.tags), sm
    if len(mgs) == 1:
        return list(mgs[0].meta_info_def.tags), sm
    raise Tf1Error("not-rebuildable", f"{saved_model_dir}: {len(mgs)} meta graphs ({[list(m.meta_info_def.tags) for m in mgs]}) and none is the training graph (tag 'train' or a train_op collection)")


def serving_outputs(sm, train_tags):
    """Output tensor names of the signatures of the other meta graphs (serving), in a stable order."""
    out = []
    if sm is None:
        return out
    for m in sm.meta_graphs:
        if list(m.meta_info_def.tags) == train_tags:
            continue
        for key in sorted(m.signature_def):
            for okey in sorted(m.signature_def[key].outputs):
                out.append(m.signature_def[key].outputs[okey].name)
    return out


def load_graph(tf, v1, model_path, overrides=None, layers=()):
    """(graph, session, how it was loaded, SavedModel proto or None, tags or None, trainingOverrides report).
    The config's trainingOverrides are applied to the MetaGraphDef before it is imported, by the function the
    oracle uses (fi_common.tf1_load / tf1_apply_training_overrides): the BatchNorm layers (`layers`) they cover
    read a constant instead of the training placeholder."""
    import os
    if os.path.isdir(model_path) and not os.path.exists(os.path.join(model_path, "saved_model.pb")):
        metas = sorted(f for f in os.listdir(model_path) if f.endswith(".meta"))
        if len(metas) != 1:
            raise Tf1Error("engine-failure", f"{model_path}: neither a SavedModel (no saved_model.pb) nor a folder with one .meta graph (found {metas})")
        model_path = os.path.join(model_path, metas[0])
    g = tf.Graph()
    with g.as_default():
        sess = v1.Session(graph=g)
        try:
            if model_path.endswith(".meta"):
                prefix = model_path[: -len(".meta")]
                if not os.path.exists(prefix + ".index"):
                    raise Tf1Error("engine-failure", f"{model_path}: the checkpoint {prefix}.index next to the graph is missing")
                how, report = _shared_config_semantics().tf1_load(v1, sess, model_path, None, overrides, layers)
                if how is None:
                    raise Tf1Error("not-rebuildable", f"{model_path}: the graph has no variables to restore")
                return g, sess, how, None, None, report
            folder = os.path.dirname(model_path) if model_path.endswith(".pb") else model_path
            tags, sm = choose_meta_graph(folder)
            how, report = _shared_config_semantics().tf1_load(v1, sess, folder, tags, overrides, layers)
            return g, sess, how, sm, tags, report
        except Tf1Error:
            sess.close()
            raise
        except Exception as e:  # noqa: BLE001
            sess.close()
            raise Tf1Error("engine-failure", f"{model_path}: TensorFlow could not load the TF1 graph: {e}")


# ---------------------------------------------------------------- discovery

def source_through(op):
    """Follow Identity/Switch chains (input 0) back to the producing op."""
    seen = 0
    while op.type in PASS_THROUGH and op.inputs and seen < 64:
        op = op.inputs[0].op
        seen += 1
    return op


def tensor_through(t):
    """Follow a tensor back through Identity/Switch chains to the tensor that was produced."""
    seen = 0
    while t.op.type in PASS_THROUGH and t.op.inputs and seen < 64:
        t = t.op.inputs[0]
        seen += 1
    return t


def is_bool_placeholder(op):
    return op.type in ("Placeholder", "PlaceholderWithDefault") and getattr(op.get_attr("dtype"), "name", None) == "bool"


def training_inputs(g, recorded):
    found = {}
    for op in g.get_operations():
        idx = COND_PREDICATE_INPUT.get(op.type)
        if idx is None or len(op.inputs) <= idx:
            continue
        src = source_through(op.inputs[idx].op)
        if is_bool_placeholder(src):
            found[src.name] = "cond/select predicate"
    unknown = []
    for n in recorded or []:
        name = op_name(n)
        try:
            op = g.get_operation_by_name(name)
        except KeyError:
            unknown.append(name)
            continue
        if is_bool_placeholder(op):
            found.setdefault(name, "recorded by the model reader")
    return sorted(found), unknown


def ancestors(ops, limit=1_000_000):
    """Every op the given ops depend on (data and control inputs), themselves included."""
    seen = set()
    stack = list(ops)
    while stack and len(seen) < limit:
        op = stack.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def find_loss(g, sm, tags):
    """(loss tensor or None, how it was found, [candidates when ambiguous])."""
    cands = []
    for op in g.get_operations():
        # tf.gradients(loss) seeds the backward pass with grad_ys_<i> = Fill(Shape(loss), 1.0)
        m = re.search(r"^(.*/)?(gradients(_\d+)?)/grad_ys_\d+$", op.name) if op.type == "Fill" else None
        if not m:
            continue
        shape_op = op.inputs[0].op
        if shape_op.type == "Shape" and shape_op.inputs:
            cands.append(shape_op.inputs[0])
            continue
        # a statically known shape (a scalar loss) is a Const: the seed's consumers are the loss op's
        # gradient function, named '<scope>gradients/<loss op>_grad/...'
        prefix = (m.group(1) or "") + m.group(2) + "/"
        for c in op.outputs[0].consumers():
            cm = re.match(re.escape(prefix) + r"(.+)_grad/", c.name)
            if not cm:
                continue
            try:
                lop = g.get_operation_by_name(cm.group(1))
            except KeyError:
                continue
            floats = [t for t in lop.outputs if t.dtype.is_floating]
            if len(floats) == 1:
                cands.append(floats[0])
    uniq = sorted({t.name for t in cands})
    if len(uniq) == 1:
        return g.get_tensor_by_name(uniq[0]), "the seed of the saved gradients subgraph (%s)" % uniq[0], []
    if len(uniq) > 1:
        return None, None, uniq
    if sm is not None and tags is not None:
        for m in sm.meta_graphs:
            if list(m.meta_info_def.tags) != tags:
                continue
            scalars = []
            for key in sorted(m.signature_def):
                for okey, info in sorted(m.signature_def[key].outputs.items()):
                    dims = info.tensor_shape.dim
                    if info.dtype in (1, 2, 19) and not info.tensor_shape.unknown_rank and len(dims) == 0:
                        scalars.append(info.name)
            scalars = sorted(set(scalars))
            if len(scalars) == 1:
                return g.get_tensor_by_name(scalars[0]), f"the scalar output of the training signature ({scalars[0]})", []
            if len(scalars) > 1:
                return None, None, scalars
    for coll in ("losses", "loss"):
        items = [t for t in g.get_collection(coll) if hasattr(t, "dtype")]
        if len(items) == 1:
            return items[0], f"the '{coll}' collection ({items[0].name})", []
        if len(items) > 1:
            return None, None, [t.name for t in items]
    return None, None, []


def forward_closure(g, names):
    """Names of the ops reached from the given ops along data edges (themselves included)."""
    out = set()
    stack = [g.get_operation_by_name(n) for n in names]
    while stack:
        op = stack.pop()
        if op.name in out:
            continue
        out.add(op.name)
        for t in op.outputs:
            stack.extend(t.consumers())
    return out


def find_output(g, loss, sm, tags, placeholder_names, variable_ops):
    """(output tensor or None, how it was found)."""
    for name in serving_outputs(sm, tags):
        try:
            return g.get_tensor_by_name(name), f"the serving signature output {name}"
        except (KeyError, ValueError):
            continue
    if loss is None:
        return None, None
    from_vars = forward_closure(g, variable_ops)
    from_feeds = forward_closure(g, placeholder_names)

    def deps(op):
        return op.name in from_vars, op.name in from_feeds

    # breadth-first from the loss: the nearest op comparing a variable-dependent tensor with a tensor fed from
    # placeholders only (the target) holds the prediction; several at that distance: not identified
    frontier = [loss.op]
    seen = set()
    for _ in range(256):
        hits = set()
        nxt = []
        for op in frontier:
            if op.name in seen:
                continue
            seen.add(op.name)
            float_inputs = [i for i in op.inputs if i.dtype.is_floating]
            with_vars = [i for i in float_inputs if deps(i.op)[0]]
            targets = [i for i in float_inputs if deps(i.op)[1] and not deps(i.op)[0]]
            if len(with_vars) == 1 and targets:
                hits.add(with_vars[0].name)
            nxt.extend(i.op for i in op.inputs if deps(i.op)[0])
        if len(hits) == 1:
            name = hits.pop()
            return g.get_tensor_by_name(name), f"the prediction the loss compares with a fed target ({name})"
        if len(hits) > 1 or not nxt:
            return None, None
        frontier = nxt
    return None, None


def saved_train_op(g, mode):
    coll = g.get_collection("train_op")
    if not coll:
        raise Tf1Error("not-rebuildable", "useSavedTrainOp: the graph has no 'train_op' collection")

    def as_op(x):
        return x if hasattr(x, "type") and not hasattr(x, "op") else x.op

    if mode == "collection[0]":
        return coll[0], "get_collection('train_op')[0] = %s" % coll[0].name
    if len(coll) == 1:
        return coll[0], "the train_op collection's only entry %s" % coll[0].name
    # the entry that runs all the others (slim's train tensor, not the apply op apply_gradients registers first)
    outer = []
    for x in coll:
        a = ancestors([as_op(x)])
        if all(as_op(y).name in a for y in coll):
            outer.append(x)
    if len(outer) == 1:
        return outer[0], "the train_op collection entry that runs all the others: %s" % outer[0].name
    raise Tf1Error("not-rebuildable", "useSavedTrainOp: the train_op collection holds %s and no entry runs all the others; set \"useSavedTrainOp\": \"collection[0]\" to run the first" % [x.name for x in coll])


# ---------------------------------------------------------------- synthetic feeds

def feed_value(np, ph, bs, seed, kind, normal, uniform):
    shape = ph.shape
    if shape.rank is None:
        raise Tf1Error("data", f"placeholder {ph.name} has an unknown rank: synthetic data needs a known shape")
    dims = shape.as_list()
    out = []
    for i, d in enumerate(dims):
        if d is None or d < 0:
            if i != 0:
                raise Tf1Error("data", f"placeholder {ph.name} has an unknown dimension {i} ({dims}): synthetic data needs a fixed shape")
            d = bs
        out.append(int(d))
    count = int(np.prod(out)) if out else 1
    dt = ph.dtype
    if dt.is_floating:
        vals = (normal if kind == "input" else uniform)(seed, count)
        return vals.reshape(out).astype(dt.as_numpy_dtype), "N(0,1)" if kind == "input" else "U(0,1)"
    if dt.is_integer:
        return np.zeros(out, dtype=dt.as_numpy_dtype), "zeros"
    raise Tf1Error("data", f"placeholder {ph.name} has dtype {dt.name}: the engine feeds only float and integer placeholders with synthetic data")


# ---------------------------------------------------------------- BatchNorm probes

def bn_layers(request):
    """[{layer, epsilon, gamma, beta, mm, mv}] with TF variable names, from the reader's info (request.tf1)
    or, without it, from the variable names (scopes holding moving_mean/moving_variance)."""
    info = (request.get("tf1") or {}).get("batchNorms")
    out = []
    if info:
        for b in info:
            out.append({"layer": b["layer"], "epsilon": float(b.get("epsilon", 1e-3)),
                        "gamma": b.get("gamma"), "beta": b.get("beta"),
                        "mm": b.get("movingMean"), "mv": b.get("movingVariance")})
        return out
    by_layer = {}
    for v in request["modelVariables"]:
        if v.get("layer") and v["role"] in ("gamma", "beta", "moving_mean", "moving_variance"):
            by_layer.setdefault(v["layer"], {})[v["role"]] = v["name"]
    for layer, roles in sorted(by_layer.items()):
        if "moving_mean" in roles and "moving_variance" in roles:
            out.append({"layer": layer, "epsilon": 1e-3, "gamma": roles.get("gamma"), "beta": roles.get("beta"),
                        "mm": roles["moving_mean"], "mv": roles["moving_variance"]})
    return out


def bn_tensors(g, layer):
    """(x, y) tensors of a BatchNorm layer (its input and its output), or (None, None)."""
    ops = [op for op in g.get_operations() if op.name.startswith(layer + "/")]
    fused = [op for op in ops if op.type in FUSED]
    if fused:
        x = tensor_through(fused[0].inputs[0])
        y = fused[0].outputs[0]
        for c in y.consumers():
            if c.type == "Merge":
                y = c.outputs[0]
                break
        return x, y
    mean = [op for op in ops if re.search(r"/moments/mean$", op.name)]
    add1 = [op for op in ops if re.search(r"/batchnorm/add_1$", op.name)]
    x = None
    if mean:
        x = tensor_through(mean[0].inputs[0])
    elif add1:
        mul1 = [op for op in ops if re.search(r"/batchnorm/mul_1$", op.name)]
        if mul1:
            x = mul1[0].inputs[0]
    y = add1[0].outputs[0] if add1 else None
    return x, y


def bn_formula(np, x, gamma, beta, mm, mv, eps):
    x = np.asarray(x, "float64")
    axes = tuple(range(x.ndim - 1))
    g = np.ones(x.shape[-1]) if gamma is None else np.asarray(gamma, "float64")
    b = np.zeros(x.shape[-1]) if beta is None else np.asarray(beta, "float64")
    yb = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps) * g + b
    ym = (x - np.asarray(mm, "float64")) / np.sqrt(np.asarray(mv, "float64") + eps) * g + b
    return yb, ym


# ---------------------------------------------------------------- the run

def run_tf1(request, tools):
    """tools: progress(phase, message, **kw), step(step, loss, ms), cancelled() -> bool, normal(seed, n), uniform(seed, n),
    rounding_note(...), attribute_of(name)."""
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()
    progress = tools["progress"]
    progress("loading-model", "importing TensorFlow for a TF1 graph")
    try:
        import tensorflow as tf
    except Exception as e:  # noqa: BLE001
        raise Tf1Error("no-tensorflow", f"TensorFlow cannot be imported by {sys.executable}: {e}")
    import numpy as np
    v1 = tf.compat.v1
    v1.disable_v2_behavior()
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # noqa: BLE001 - older TensorFlow: determinism is best effort
        pass

    settings = request["settings"]
    if settings["data"]["kind"] != "synthetic":
        raise Tf1Error("data", f"{settings['data'].get('path')}: user data is not supported for TF1 graphs yet (the engine cannot tell which placeholder is the input); use synthetic data")
    tf1 = request.get("tf1") or {}
    cfg = {
        "patternSyntax": tf1.get("patternSyntax", "regex"),
        "freeze": tf1.get("freeze") or [],
        "train": tf1.get("train") or [],
        "updateOps": tf1.get("updateOps", "all"),
        "useSavedTrainOp": tf1.get("useSavedTrainOp", False),
        "training": bool(request.get("training", True)),
    }
    model_path = request["modelPath"]
    progress("loading-model", f"loading {model_path}")
    bns = bn_layers(request)
    overrides = request.get("trainingOverrides") or {}
    g, sess, source, sm, tags, ov = load_graph(tf, v1, model_path, overrides, [b["layer"] for b in bns])
    warnings = []
    notes = []
    # trainingOverrides: what was rewired, and every entry that could not be applied, said precisely
    layer_training = {r["layer"]: r["training"] for r in ov["rewired"]}
    for r in ov["rewired"]:
        notes.append("trainingOverrides[%r]: %s built with training=%s (%d op(s) read a constant instead of the training placeholder)"
                     % (r["key"], r["layer"], r["training"], len(r["ops"])))
    for u in ov["unusedKeys"]:
        warnings.append("trainingOverrides[%r] is not applied: it %s" % (u["key"], u["reason"]))
    for r in ov["notRewired"]:
        warnings.append("trainingOverrides[%r] is not applied to %s: %s" % (r["key"], r["layer"], r["reason"]))
    try:
        with g.as_default():
            gvars = {v.op.name: v for v in v1.global_variables()}
            trainable = v1.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
            variable_ops = set(gvars)
            flags, unknown_flags = training_inputs(g, tf1.get("trainingInputs"))
            if unknown_flags:
                warnings.append("training input(s) recorded by the reader are not bool placeholders of this graph: " + ", ".join(unknown_flags))
            if not flags:
                warnings.append("the graph has no training placeholder: `training` cannot be fed, BatchNorm modes are fixed in the graph")

            loss, loss_from, loss_cands = find_loss(g, sm, tags)
            if loss is not None:
                notes.append("loss: " + loss_from)

            mode = cfg["useSavedTrainOp"]
            if mode:
                train_op, how = saved_train_op(g, mode)
                notes.append("ran " + how + "; freeze/train/updateOps of the config are ignored for a saved train op")
                update_names = None
                var_list_names = None
            else:
                if loss is None:
                    if loss_cands:
                        raise Tf1Error("not-rebuildable", f"{model_path}: several loss candidates ({', '.join(loss_cands)}): the engine will not guess which one to minimize; set \"useSavedTrainOp\" to train with the saved train op")
                    raise Tf1Error("not-rebuildable", f"{model_path}: no loss tensor found (no gradients subgraph, no scalar training-signature output, no 'losses' collection): a train op cannot be built; set \"useSavedTrainOp\" to train with the saved train op")
                _, var_list, updates = _shared_config_semantics().tf1_train_selection(v1, cfg)
                lr = settings["learningRate"]
                kind = settings["optimizer"]
                if kind == "momentum":
                    opt = v1.train.MomentumOptimizer(lr, 0.9)
                elif kind == "adam":
                    opt = v1.train.AdamOptimizer(lr, epsilon=1e-7)
                else:
                    opt = v1.train.GradientDescentOptimizer(lr)
                with tf.control_dependencies(updates):
                    if var_list:
                        train_op = opt.minimize(loss, var_list=var_list, name="freeze_inspector_train")
                    else:
                        train_op = tf.group(tf.identity(loss), name="freeze_inspector_train_empty")
                        notes.append("empty var_list: each step only evaluates the loss under the update-op dependencies")
                sess.run(v1.variables_initializer([v for v in v1.global_variables() if v.op.name not in gvars]))
                update_names = [getattr(u, "name", str(u)) for u in updates]
                var_list_names = sorted(v.op.name for v in var_list)
                notes.append("var_list: %s" % (var_list_names or "[]"))
                notes.append("update ops run: %s" % (update_names or "[]"))

            fetch_ops = [train_op if not hasattr(train_op, "op") else train_op.op]
            if loss is not None:
                fetch_ops.append(loss.op)
            needed = ancestors(fetch_ops)
            placeholders = [op for op in g.get_operations() if op.type == "Placeholder" and op.name in needed and op.name not in flags]
            placeholder_names = {op.name for op in placeholders}
            output, output_from = find_output(g, loss, sm, tags, placeholder_names, variable_ops)
            if output is not None:
                notes.append("model output: " + output_from)
            input_names = ancestors([output.op]) & placeholder_names if output is not None else placeholder_names
            bs = settings["batchSize"]
            seed = settings["seed"]
            feed = {}
            described = []
            by_name = sorted(placeholders, key=lambda o: o.name)
            ordered = [p for p in by_name if p.name in input_names] + [p for p in by_name if p.name not in input_names]
            for ph in ordered:
                kind = "input" if ph.name in input_names else "target"
                val, what = feed_value(np, ph.outputs[0], bs, seed, kind, tools["normal"], tools["uniform"])
                feed[ph.outputs[0]] = val
                described.append(f"{ph.name} {what} {list(val.shape)}")
                seed += 1
            for f in flags:
                feed[g.get_tensor_by_name(f + ":0")] = cfg["training"]

            # --- variables of the model, as the reader named them
            pairs = []
            for v in request["modelVariables"]:
                tv = gvars.get(v["name"])
                if tv is not None:
                    pairs.append((tv, v))
            tracked = [tv for tv, _ in pairs]
            all_vars = list(gvars.values())

            def snapshot():
                return sess.run(all_vars)

            def restore(values):
                for var, val in zip(all_vars, values):
                    var.load(val, sess)

            bn_t = {b["layer"]: bn_tensors(g, b["layer"]) for b in bns}

            def probe():
                """(model train/inference gap or None, {layer: (gap, mode or None)}), every variable restored."""
                saved = snapshot()
                fetch = {}
                for b in bns:
                    x, y = bn_t[b["layer"]]
                    if x is None or b["mm"] not in gvars or b["mv"] not in gvars:
                        continue
                    fetch[b["layer"]] = {
                        "x": x, "y": y if y is not None else x,
                        "gamma": gvars[b["gamma"]] if b.get("gamma") in gvars else tf.constant(0.0),
                        "beta": gvars[b["beta"]] if b.get("beta") in gvars else tf.constant(0.0),
                        "mm": gvars[b["mm"]], "mv": gvars[b["mv"]],
                    }
                # variables read in the same run as the forward pass: forced in-place updates (slim
                # updates_collections=None) run after the reads they depend on
                got = sess.run(fetch, feed) if fetch else {}
                restore(saved)
                layer_obs = {}
                for b in bns:
                    f = got.get(b["layer"])
                    if f is None:
                        continue
                    yb, ym = bn_formula(np, f["x"], f["gamma"] if b.get("gamma") in gvars else None,
                                        f["beta"] if b.get("beta") in gvars else None, f["mm"], f["mv"], b["epsilon"])
                    gap = float(np.mean(np.abs(yb - ym)))
                    mode_seen = None
                    if bn_t[b["layer"]][1] is not None:
                        y = np.asarray(f["y"], "float64")
                        mode_seen = "batch" if float(np.max(np.abs(yb - y))) <= float(np.max(np.abs(ym - y))) else "moving"
                    layer_obs[b["layer"]] = (gap, mode_seen)
                model_gap = None
                if output is not None:
                    if flags:
                        tr = sess.run(output, feed)
                        restore(saved)
                        inf_feed = dict(feed)
                        for f in flags:
                            inf_feed[g.get_tensor_by_name(f + ":0")] = False
                        inf = sess.run(output, inf_feed)
                        restore(saved)
                        model_gap = float(np.mean(np.abs(np.asarray(tr, "float64") - np.asarray(inf, "float64"))))
                    else:
                        model_gap = 0.0
                return model_gap, layer_obs

            before = sess.run(tracked)
            gap_before, layer_before = probe()

            losses, step_ms = [], []
            ttfs = 0.0
            steps = settings["steps"]
            progress("training", f"training {steps} step(s) with {'the saved train op' if mode else 'a train op built from the config'}")
            for step in range(steps):
                if tools["cancelled"]():
                    raise Tf1Error("cancelled", "verification cancelled")
                ts = time.perf_counter()
                if loss is not None:
                    _, value = sess.run([train_op, loss], feed)
                    value = float(np.asarray(value, "float64").mean())
                else:
                    sess.run(train_op, feed)
                    value = None
                ms = (time.perf_counter() - ts) * 1000
                if step == 0:
                    ttfs = (time.perf_counter() - t0) * 1000
                if value is not None:
                    losses.append(value)
                step_ms.append(ms)
                tools["step"](step + 1, value, ms)
                progress("training", f"step {step + 1}/{steps}", step=step + 1, totalSteps=steps)
            if loss is None:
                warnings.append("no loss tensor found in the graph: the loss per step is not reported")

            progress("measuring", "comparing variables")
            after = sess.run(tracked)
            gap_after, layer_after = probe()
            tf_version = tf.__version__
    finally:
        sess.close()

    predictions = {p["key"]: p for p in request["predictions"]}
    variables = []
    drift = {}
    for (tv, v), b, a in zip(pairs, before, after):
        b = np.asarray(b)
        a = np.asarray(a)
        d = float(np.max(np.abs(a.astype("float64") - b.astype("float64")))) if a.size else 0.0
        observed = bool(not np.array_equal(a, b))
        p = predictions.get(v["key"])
        rel = d / max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
        note = tools["rounding_note"](p["changes"], d, rel, v["role"]) if p and p["changes"] != observed else None
        variables.append({
            "key": v["key"], "name": v["name"], "layer": v["layer"], "role": v["role"],
            "predicted": p["changes"] if p else None, "predictedReason": p["reason"] if p else None,
            "observed": observed, "maxAbsDelta": d, "relativeDelta": rel,
            "agree": (p["changes"] == observed) if p else False,
            **({"note": note} if note else {}),
        })
        drift[v["name"]] = d
    batch_norms = []
    deduced = []
    for b in bns:
        gb, mode_seen = layer_before.get(b["layer"], (0.0, None))
        ga = layer_after.get(b["layer"], (0.0, None))[0]
        if mode_seen is None:
            deduced.append(b["layer"])
            t = layer_training.get(b["layer"], cfg["training"] and bool(flags))
            mode_seen = "batch" if t else "moving"
        mmd = drift.get(b["mm"], 0.0)
        mvd = drift.get(b["mv"], 0.0)
        batch_norms.append({
            "layer": b["layer"], "normalizedWith": mode_seen,
            "updatedMovingStats": bool(mmd > 0 or mvd > 0),
            "movingMeanDrift": mmd, "movingVarianceDrift": mvd,
            "trainInferenceGapBefore": gb, "trainInferenceGapAfter": ga,
        })
    if deduced:
        warnings.append("normalization mode not observed (the layer's input/output tensors were not found), deduced from the fed training flag: " + ", ".join(deduced))
    unmapped = [v["name"] for v in request["modelVariables"] if v["name"] not in {p[1]["name"] for p in pairs}]
    if unmapped:
        warnings.append(f"{len(unmapped)} variable(s) of the model file are not variables of the loaded graph and are not reported: " + ", ".join(unmapped[:10]))
    if output is None:
        warnings.append("no model output tensor identified (no serving signature, the loss does not compare a prediction with a fed target): the model train/inference gap is omitted")
    predicted = [r for r in variables if r["predicted"] is not None]
    agreeing = sum(1 for r in predicted if r["agree"])
    result = {
        "engine": "python",
        "engineDetail": f"TensorFlow {tf_version}, TF1 graph ({source}), Python {sys.version.split()[0]} ({sys.executable})",
        "runtime": request["runtime"],
        "steps": settings["steps"],
        "batchSize": settings["batchSize"],
        "data": f"synthetic, seed {settings['seed']}: " + "; ".join(described) + ("; training=%s fed to %s" % (cfg["training"], ", ".join(flags)) if flags else ""),
        "loss": losses,
        "stepMs": step_ms,
        "timeToFirstStepMs": ttfs,
        "variables": variables,
        "batchNorms": batch_norms,
        "agreement": (agreeing / len(predicted)) if predicted else 1.0,
        "disagreements": len(predicted) - agreeing,
        "tolerance": 0,
        "warnings": warnings,
        "tf1": {"trainingInputs": flags, "loss": loss.name if loss is not None else None,
                "output": output.name if output is not None else None,
                "feeds": described, "varList": var_list_names, "updateOpsRun": update_names, "notes": notes,
                "trainingOverridesApplied": ov["applied"],
                "trainingOverrides": {"rewired": [{"layer": r["layer"], "key": r["key"], "training": r["training"], "ops": r["ops"]} for r in ov["rewired"]],
                                      "notRewired": ov["notRewired"], "unusedKeys": ov["unusedKeys"]}},
    }
    if gap_before is not None:
        result["modelTrainInferenceGapBefore"] = gap_before
        result["modelTrainInferenceGapAfter"] = gap_after
    return result
