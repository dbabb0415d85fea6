"""Freeze Inspector oracle: run real TensorFlow training steps and record what changed.

For every test/oracle/cases/*.freeze.json whose runtime this interpreter can run
(tf1-graph and tf2-keras need the tf215 venv, keras3 needs the tf221 venv), load the fixture,
apply the freeze config, take STEPS training steps on seeded random data and write
test/oracle/observations/<case>.json.

  python python/oracle/oracle.py                 # all cases runnable here (each in a subprocess)
  python python/oracle/oracle.py CASE [CASE...]  # by case name or path
  python python/oracle/oracle.py --one CASE_PATH # run one case in this process (internal)

See test/oracle/README.md for the config semantics.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import fi_common as C  # noqa: E402

ORACLE_DIR = os.path.join(C.REPO, "test", "oracle")
CASES_DIR = os.path.join(ORACLE_DIR, "cases")
OBS_DIR = os.path.join(ORACLE_DIR, "observations")
STEPS = 2
LR = 0.1
DATA_SEED = 4321
BATCH = 8


# ---------------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------------

def load_case(path):
    cfg = C.read_json(path)
    cfg.setdefault("patternSyntax", "regex")
    cfg.setdefault("freeze", [])
    cfg.setdefault("train", [])
    cfg.setdefault("training", True)
    cfg.setdefault("trainingOverrides", {})
    cfg.setdefault("updateOps", "all")
    cfg.setdefault("baseTrainable", "saved")
    cfg.setdefault("useSavedTrainOp", False)
    model_path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), cfg["model"]))
    return cfg, model_path


def find_expected(model_path):
    d = model_path if os.path.isdir(model_path) else os.path.dirname(model_path)
    for _ in range(3):
        p = os.path.join(d, "expected.json")
        if os.path.exists(p):
            return C.read_json(p)
        d = os.path.dirname(d)
    raise FileNotFoundError("no expected.json above %s" % model_path)


def case_name(path):
    b = os.path.basename(path)
    return b[: -len(".freeze.json")] if b.endswith(".freeze.json") else os.path.splitext(b)[0]


def data(x_shape, y_shape):
    import numpy as np
    rs = np.random.RandomState(DATA_SEED)
    x = rs.normal(size=(BATCH,) + tuple(x_shape)).astype("float32")
    y = rs.normal(size=(BATCH,) + tuple(y_shape)).astype("float32")
    return x, y


NEGLIGIBLE = 1e-5


def negligible(ch, d):
    """True when a variable changed only by float noise (e.g. a conv/dense bias feeding a BN in
    training mode: its gradient is mathematically zero)."""
    return bool(ch and d < NEGLIGIBLE)


def delta(a, b):
    import numpy as np
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    if a.shape != b.shape:
        return True, float("inf")
    d = float(np.max(np.abs(a - b))) if a.size else 0.0
    return bool(not np.array_equal(a, b)), d


def classify_normalization(x, y, gamma, beta, mm, mv, eps):
    """Compare a BN layer's actual output y with the two candidate formulas, using the
    moving statistics read immediately BEFORE the call. Returns (label|None, errors)."""
    import numpy as np
    x = np.asarray(x, "float64")
    y = np.asarray(y, "float64")
    axes = tuple(range(x.ndim - 1))
    g = np.ones(x.shape[-1]) if gamma is None else np.asarray(gamma, "float64")
    b = np.zeros(x.shape[-1]) if beta is None else np.asarray(beta, "float64")
    bm = x.mean(axis=axes)
    bv = x.var(axis=axes)  # biased, as used for normalisation by every TF BN kernel
    y_batch = (x - bm) / np.sqrt(bv + eps) * g + b
    y_moving = (x - np.asarray(mm, "float64")) / np.sqrt(np.asarray(mv, "float64") + eps) * g + b
    err_b = float(np.max(np.abs(y - y_batch)))
    err_m = float(np.max(np.abs(y - y_moving)))
    sep = float(np.max(np.abs(y_batch - y_moving)))
    tol = 1e-4 + 1e-4 * float(np.max(np.abs(y)))
    label = None
    if sep > 100 * tol:  # the two hypotheses are distinguishable on this batch
        if err_b <= tol < err_m:
            label = "batch"
        elif err_m <= tol < err_b:
            label = "moving"
    return label, {"errBatch": err_b, "errMoving": err_m, "separation": sep, "tolerance": tol}


def matches_any(cfg, patterns, name):
    return any(C.pattern_match(cfg["patternSyntax"], p, name) for p in patterns)


# ---------------------------------------------------------------------------------------------
# TF1 graph runtime
# ---------------------------------------------------------------------------------------------

def run_tf1(cfg, model_path, exp):
    import numpy as np
    import tensorflow as tf
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
    gi = exp["graph"]
    g = tf.Graph()
    notes = []
    with g.as_default():
        sess = v1.Session(graph=g)
        # trainingOverrides: the BatchNorm scopes they cover read a constant instead of is_training (the same
        # rewrite of the MetaGraphDef as the Python verify engine, fi_common.tf1_load)
        source, ov = C.tf1_load(v1, sess, model_path, ["train"], cfg["trainingOverrides"],
                                [b["layer"] for b in exp["batchNorms"]], [gi["isTraining"]])
        for u in ov["unusedKeys"]:
            notes.append("trainingOverrides[%r] not applied: %s" % (u["key"], u["reason"]))
        for r in ov["notRewired"]:
            notes.append("trainingOverrides[%r] not applied to %s: %s" % (r["key"], r["layer"], r["reason"]))
        layer_training = {r["layer"]: r["training"] for r in ov["rewired"]}
        x = g.get_tensor_by_name(gi["input"])
        y = g.get_tensor_by_name(gi["target"])
        is_training = g.get_tensor_by_name(gi["isTraining"])
        loss = g.get_tensor_by_name(gi["loss"])
        gvars = {v.op.name: v for v in v1.global_variables()}
        trainable, var_list, updates = C.tf1_train_selection(v1, cfg)

        if cfg["useSavedTrainOp"]:
            coll = v1.get_collection("train_op")
            if cfg["useSavedTrainOp"] == "collection[0]":
                train_op = coll[0]
                notes.append("ran get_collection('train_op')[0] = %s" % train_op.name)
            else:
                n = gi["trainOp"]
                train_op = g.get_tensor_by_name(n) if ":" in n else g.get_operation_by_name(n)
                notes.append("ran the graph's own train op %s (generator-recorded)" % n)
            notes.append("train_op collection: %s" % [t.name for t in coll])
            notes.append("freeze/train/updateOps of the config are ignored for a saved train op")
            opt_vars = set(gi["varList"])
            update_names = gi["trainOpUpdateOps"]
        else:
            opt = v1.train.GradientDescentOptimizer(LR)
            with tf.control_dependencies(updates):
                if var_list:
                    train_op = opt.minimize(loss, var_list=var_list, name="oracle_train")
                else:
                    # nothing to optimise: the step still runs the selected update ops
                    train_op = tf.group(*[tf.identity(loss)], name="oracle_train_empty")
                    notes.append("empty var_list: the step only evaluates the loss under the update-op dependencies")
            opt_vars = {v.op.name for v in var_list}
            update_names = [getattr(u, "name", str(u)) for u in updates]
            sess.run(v1.variables_initializer([v for v in v1.global_variables()
                                               if v.op.name not in gvars]))

        model_names = [v["name"] for v in exp["variables"]]
        tracked = [gvars[n] for n in model_names]
        xb, yb = data(x.shape.as_list()[1:], y.shape.as_list()[1:])
        feed = {x: xb, y: yb, is_training: bool(cfg["training"])}

        # --- observe normalisation on the first batch (forward only, before any update) ---
        bn_obs = []
        fetch = {}
        for b in exp["batchNorms"]:
            fetch[b["layer"]] = {
                "x": g.get_tensor_by_name(b["inputTensor"]),
                "y": g.get_tensor_by_name(b["outputTensor"]),
                "gamma": gvars[b["gamma"]] if b.get("gamma") else tf.constant(0.0),
                "beta": gvars[b["beta"]] if b.get("beta") else tf.constant(0.0),
                "mm": gvars[b["moving_mean"]], "mv": gvars[b["moving_variance"]],
            }
        fwd = sess.run(fetch, feed)

        before = sess.run(tracked)
        for _ in range(STEPS):
            sess.run(train_op, feed)
        after = sess.run(tracked)
        sess.close()

    variables = []
    changed_by_name = {}
    exp_by_name = {v["name"]: v for v in exp["variables"]}
    for n, a, b in zip(model_names, before, after):
        ch, d = delta(a, b)
        changed_by_name[n] = ch
        variables.append({"name": n, "key": exp_by_name[n].get("key"), "changed": ch, "maxAbsDelta": d,
                          "negligible": negligible(ch, d),
                          "trainable": exp_by_name[n]["trainable"], "optimized": n in opt_vars})
    for b in exp["batchNorms"]:
        f = fwd[b["layer"]]
        label, errs = classify_normalization(f["x"], f["y"], f["gamma"] if b.get("gamma") else None,
                                             f["beta"] if b.get("beta") else None, f["mm"], f["mv"], b["epsilon"])
        o = {"layer": b["layer"]}
        if label:
            o["normalizesWith"] = label
        o.update({
            "movingStatsChanged": bool(changed_by_name[b["moving_mean"]] or changed_by_name[b["moving_variance"]]),
            "movingMeanChanged": changed_by_name[b["moving_mean"]],
            "movingVarianceChanged": changed_by_name[b["moving_variance"]],
            "gammaChanged": changed_by_name.get(b["gamma"]) if b.get("gamma") else None,
            "betaChanged": changed_by_name.get(b["beta"]) if b.get("beta") else None,
            "trainingFed": layer_training.get(b["layer"], bool(cfg["training"])),
            "normalizationCheck": errs,
        })
        bn_obs.append(o)
    extra = {
        "loadedWith": source,
        "trainingOverridesApplied": ov["applied"],
        **({"trainingOverridesRewired": [{k: r[k] for k in ("layer", "key", "training", "ops")} for r in ov["rewired"]]}
           if cfg["trainingOverrides"] else {}),
        "varList": sorted(opt_vars),
        "updateOpsRun": update_names,
        "notes": notes,
    }
    return variables, bn_obs, extra, tf.__version__, None


# ---------------------------------------------------------------------------------------------
# Keras runtimes (tf_keras 2.15 and Keras 3)
# ---------------------------------------------------------------------------------------------

def load_keras(runtime, model_path, exp):
    if runtime == "tf2-keras":
        import tf_keras as keras
        import fi_k2_models
        custom = dict(fi_k2_models.CUSTOM_OBJECTS)
        m = keras.models.load_model(model_path, compile=False, custom_objects=custom)
        return keras, m, "tf_keras.models.load_model(compile=False)"
    import keras
    m = keras.saving.load_model(model_path, compile=False)
    return keras, m, "keras.saving.load_model(compile=False)"


def apply_freeze(cfg, model):
    """Returns list of (path, action) applied."""
    actions = []
    if cfg["baseTrainable"] == "all":
        # explicit, layer by layer: Keras 3.15.1 ignores `model.trainable = True` when the model
        # already is trainable (it does not recurse into a frozen nested model), tf_keras recurses.
        model.trainable = True
        for _p, layer, _e, _pp in C.walk_layers(model):
            layer.trainable = True
        actions.append(("<all layers>", "trainable=True (baseTrainable=all)"))
    elif cfg["baseTrainable"] == "model":
        model.trainable = True
        actions.append(("<model>", "model.trainable=True only (baseTrainable=model)"))
    layers = C.walk_layers(model)
    if cfg["train"]:
        selected = set()
        for path, _l, _e, _p in layers:
            parts = path.split("/")
            anc = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
            if any(matches_any(cfg, cfg["train"], a) for a in anc):
                selected.add(path)
        for path, layer, _e, _p in layers:
            if not C.child_layers(layer) and path not in selected and layer.weights:
                layer.trainable = False
                actions.append((path, "trainable=False (not in train allow-list)"))
    for path, layer, _e, _p in layers:
        if cfg["freeze"] and matches_any(cfg, cfg["freeze"], path):
            layer.trainable = False
            actions.append((path, "trainable=False (freeze pattern)"))
    return actions


def run_keras(cfg, model_path, exp, runtime):
    import numpy as np
    import tensorflow as tf
    flavor = "keras3" if runtime == "keras3" else "tf_keras"
    keras, model, source = load_keras(runtime, model_path, exp)
    actions = apply_freeze(cfg, model)
    layers = C.walk_layers(model)
    owner = C.var_owner_map(model)

    # --- instrument BatchNormalization layers: capture input/output/training on the first call
    captures = {}
    state = {"armed": True}
    bn_layers = [(p, l) for p, l, _e, _pp in layers if C.is_batchnorm(l)]
    for path, layer in bn_layers:
        orig = layer.call

        def wrapped(inputs, *args, __orig=orig, __path=path, __layer=layer, **kwargs):
            rec = None
            if state["armed"] and __path not in captures:
                rec = {
                    "x": np.array(inputs),
                    "training": kwargs.get("training", args[0] if args else None),
                    "gamma": C.np_value(__layer.gamma) if getattr(__layer, "gamma", None) is not None else None,
                    "beta": C.np_value(__layer.beta) if getattr(__layer, "beta", None) is not None else None,
                    "mm": C.np_value(__layer.moving_mean), "mv": C.np_value(__layer.moving_variance),
                }
            out = __orig(inputs, *args, **kwargs)
            if rec is not None:
                rec["y"] = np.array(out)
                captures[__path] = rec
            return out
        layer.call = wrapped

    in_shape = [int(d) for d in model.inputs[0].shape[1:]] if getattr(model, "inputs", None) else [16, 16, 3]
    out_shape = None
    try:
        out_shape = [int(d) for d in model.outputs[0].shape[1:]]
    except Exception:
        out_shape = [4]
    xb, yb = data(in_shape, out_shape)
    xt = tf.constant(xb)
    yt = tf.constant(yb)

    weights = list(model.weights)
    tv = list(model.trainable_variables)
    tv_ids = {id(v) for v in tv}

    def raw(v):
        return v.value if flavor == "keras3" else v

    before = [C.np_value(w) for w in weights]
    grads_seen = set()
    call_kwargs = {} if cfg["training"] is None else {"training": bool(cfg["training"])}
    for step in range(STEPS):
        with tf.GradientTape() as tape:
            out = model(xt, **call_kwargs)
            loss = tf.reduce_mean(tf.square(tf.cast(out, tf.float32) - yt))
        state["armed"] = False
        grads = tape.gradient(loss, [raw(v) for v in tv])
        for v, gr in zip(tv, grads):
            if gr is None:
                continue
            grads_seen.add(id(v))
            v.assign(v - LR * gr) if flavor == "keras3" else v.assign_sub(LR * gr)
    after = [C.np_value(w) for w in weights]

    exp_by = {}
    for v in exp["variables"]:
        exp_by[(v["name"], v["layer"])] = v
    variables = []
    changed = {}
    mismatched = []
    for w, a, b in zip(weights, before, after):
        n = C.keras_var_name(w, flavor)
        lay = owner.get(id(w))
        ev = exp_by.get((n, lay))
        if ev is None:
            mismatched.append("%s (%s)" % (n, lay))
        ch, d = delta(a, b)
        changed[id(w)] = ch
        variables.append({"name": n, "key": ev.get("key") if ev else None, "layer": lay, "changed": ch,
                          "maxAbsDelta": d, "negligible": negligible(ch, d),
                          "trainable": id(w) in tv_ids, "gotGradient": id(w) in grads_seen})
    bn_obs = []
    for path, layer in bn_layers:
        rec = captures.get(path)
        o = {"layer": path}
        errs = None
        if rec is not None:
            label, errs = classify_normalization(rec["x"], rec["y"], rec["gamma"], rec["beta"], rec["mm"], rec["mv"],
                                                 float(layer.epsilon))
            if label:
                o["normalizesWith"] = label
        tr = rec["training"] if rec else None
        if tr is not None and not isinstance(tr, bool):
            try:
                tr = bool(np.array(tr))
            except Exception:
                tr = str(tr)
        o.update({
            "movingStatsChanged": bool(changed[id(layer.moving_mean)] or changed[id(layer.moving_variance)]),
            "movingMeanChanged": changed[id(layer.moving_mean)],
            "movingVarianceChanged": changed[id(layer.moving_variance)],
            "gammaChanged": changed[id(layer.gamma)] if getattr(layer, "gamma", None) is not None else None,
            "betaChanged": changed[id(layer.beta)] if getattr(layer, "beta", None) is not None else None,
            "layerTrainable": bool(layer.trainable),
            "trainingArgReceived": tr,
            "normalizationCheck": errs,
        })
        bn_obs.append(o)
    notes = []
    if mismatched:
        notes.append("variables not found in expected.json by (name, layer): " + ", ".join(mismatched))
    extra = {
        "loadedWith": source,
        "freezeActions": [{"layer": p, "action": a} for p, a in actions],
        "modelCallTrainingArgs": exp.get("callTrainingArgs", {}),
        "trainingOverridesApplied": False,
        "effectiveTrainableLayers": [p for p, l, e, _pp in C.walk_layers(model) if e and l.weights],
        "notes": notes,
    }
    return variables, bn_obs, extra, tf.__version__, keras.__version__


# ---------------------------------------------------------------------------------------------

def runtime_supported(runtime):
    import importlib.util
    if runtime == "keras3":
        if importlib.util.find_spec("keras") is None:
            return False
        from importlib.metadata import version
        return version("keras").startswith("3.")
    return importlib.util.find_spec("tf_keras") is not None


def run_one(path):
    cfg, model_path = load_case(path)
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    exp = find_expected(model_path)
    rt = cfg["runtime"]
    if rt == "tf1-graph":
        variables, bns, extra, tfv, kv = run_tf1(cfg, model_path, exp)
    elif rt in ("tf2-keras", "keras3"):
        variables, bns, extra, tfv, kv = run_keras(cfg, model_path, exp, rt)
    else:
        raise ValueError("unknown runtime %r" % rt)
    name = case_name(path)
    obs = {
        "case": name,
        "config": os.path.relpath(os.path.abspath(path), ORACLE_DIR),
        "description": cfg.get("description"),
        "fixture": exp["fixture"],
        "model": os.path.relpath(model_path, C.REPO),
        "runtime": rt,
        "tensorflow": tfv,
        "keras": kv,
        "steps": STEPS,
        "learningRate": LR,
        "dataSeed": DATA_SEED,
        "batch": BATCH,
        "training": cfg["training"],
        "summary": None,
        "variables": variables,
        "batchNorms": bns,
    }
    obs.update(extra)
    ch = [v["name"] for v in variables if v["changed"]]
    obs["summary"] = {
        "changed": len(ch), "unchanged": len(variables) - len(ch),
        "bnMovingStatsChanged": [b["layer"] for b in bns if b["movingStatsChanged"]],
        "bnAffineChanged": [b["layer"] for b in bns if b.get("gammaChanged") or b.get("betaChanged")],
        "bnNormalizesWithBatch": [b["layer"] for b in bns if b.get("normalizesWith") == "batch"],
        "bnNormalizesWithMoving": [b["layer"] for b in bns if b.get("normalizesWith") == "moving"],
    }
    if cfg.get("expect"):
        obs["expectCheck"] = check_expect(cfg["expect"], obs)
    os.makedirs(OBS_DIR, exist_ok=True)
    C.write_json(os.path.join(OBS_DIR, name + ".json"), obs)
    flag = ""
    if obs.get("expectCheck") and not obs["expectCheck"]["ok"]:
        flag = "  EXPECT-MISMATCH: " + "; ".join(obs["expectCheck"]["failures"])
    print("oracle: %-48s changed=%d/%d statsChanged=%s%s" % (name, len(ch), len(variables),
                                                             obs["summary"]["bnMovingStatsChanged"], flag))


def check_expect(expect, obs):
    """Optional per-case hypotheses (from SEMANTICS.md). They never change the observation; a
    mismatch is only reported."""
    fails = []
    byname = {v["name"]: v for v in obs["variables"]}
    for n, want in expect.get("changed", {}).items():
        got = byname.get(n, {}).get("changed")
        if got != want:
            fails.append("%s changed=%s (hypothesis %s)" % (n, got, want))
    bns = {b["layer"]: b for b in obs["batchNorms"]}
    for layer, want in expect.get("batchNorms", {}).items():
        b = bns.get(layer, {})
        for k, v in want.items():
            if b.get(k) != v:
                fails.append("%s.%s=%s (hypothesis %s)" % (layer, k, b.get(k), v))
    return {"ok": not fails, "failures": fails, "source": expect.get("source")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--one")
    a = ap.parse_args()
    if a.one:
        run_one(a.one)
        return
    paths = []
    if a.cases:
        for c in a.cases:
            paths.append(c if os.path.exists(c) else os.path.join(CASES_DIR, c + ".freeze.json"))
    else:
        paths = sorted(glob.glob(os.path.join(CASES_DIR, "*.freeze.json")))
    failed = []
    ran = 0
    for p in paths:
        rt = C.read_json(p)["runtime"]
        if not runtime_supported(rt):
            continue
        ran += 1
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", p],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sys.stdout.write("".join(l + "\n" for l in r.stdout.splitlines() if l.startswith("oracle:")))
        if r.returncode != 0:
            failed.append(case_name(p))
            sys.stderr.write("oracle: FAILED %s\n%s\n" % (case_name(p), r.stderr[-4000:]))
    print("oracle: ran %d case(s), %d failed" % (ran, len(failed)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
