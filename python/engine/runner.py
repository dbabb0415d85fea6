"""Freeze Inspector's Python engine: a short fine-tune with the user's own TensorFlow.

Protocol (JSON lines over stdio, the types in src/core/finetune/types.ts):
  stdin  <- {"type": "verify", "request": VerifyRequest}   then optionally {"type": "cancel", "requestId": ...}
  stdout -> EngineEvent lines: progress, step, then exactly one result or error.
Several verify commands may be sent to one process: they run one after the other, each ending with its own
result or error (TensorFlow is imported once). A cancel stops the request it names; closing stdin stops all.
TensorFlow's own logging goes to stderr. Nothing is written anywhere: the model is only read.

TF1 graphs (runtime tf1-graph: TF1 SavedModel, .meta + checkpoint) are trained by tf1_engine.py, which builds
the train op from the config as the oracle does and discovers inputs, loss and training flag from the graph.
A process that ran a TF1 graph (graph mode) does not take Keras requests afterwards.

The config is applied the way the oracle (python/oracle/oracle.py) applies it: layer paths are nested model
names joined with '/', a freeze pattern that matches a layer makes it and everything inside it
trainable=False, a train allow-list keeps only matching layers, and the model is called with the config's
`training` flag. The synthetic data are the same numbers the TensorFlow.js engine draws (mulberry32).
"""
import json
import math
import os
import re
import sys
import threading
import time
import fnmatch

PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr  # anything TensorFlow or Keras prints must not corrupt the protocol stream

_cancelled = threading.Event()  # stdin closed: every request stops
_cancelled_ids = set()
_graph_mode = {"on": False}


def is_cancelled(rid):
    return _cancelled.is_set() or rid in _cancelled_ids


def emit(event):
    PROTOCOL_OUT.write(json.dumps(event, allow_nan=False, default=float) + "\n")
    PROTOCOL_OUT.flush()


class EngineError(Exception):
    def __init__(self, reason, message, unsupported=None):
        super().__init__(message)
        self.reason = reason
        self.unsupported = unsupported


# ---------------------------------------------------------------- synthetic data (mirrors src/core/finetune/plan.ts)

def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        t &= 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0

    return nxt


def synthetic_normal(seed, count):
    import numpy as np
    rnd = mulberry32(seed)
    out = np.empty(count, dtype=np.float32)
    i = 0
    while i < count:
        u1 = max(rnd(), 1e-12)
        u2 = rnd()
        r = math.sqrt(-2.0 * math.log(u1))
        out[i] = r * math.cos(2 * math.pi * u2)
        if i + 1 < count:
            out[i + 1] = r * math.sin(2 * math.pi * u2)
        i += 2
    return out


def synthetic_uniform(seed, count):
    import numpy as np
    rnd = mulberry32(seed)
    return np.array([rnd() for _ in range(count)], dtype=np.float32)


# ---------------------------------------------------------------- config application (as the oracle does)

def compile_pattern(pattern, syntax):
    if syntax == "prefix":
        return lambda s: s.startswith(pattern)
    if syntax == "glob":
        return lambda s: fnmatch.fnmatchcase(s, pattern)
    rx = re.compile(pattern)
    return lambda s: rx.search(s) is not None


def child_layers(layer):
    return list(getattr(layer, "layers", []) or [])


def walk_layers(model):
    """(path, layer) for every layer below the root, nested model names joined with '/'."""
    out = []

    def rec(layer, prefix):
        for child in child_layers(layer):
            path = f"{prefix}/{child.name}" if prefix else child.name
            out.append((path, child))
            rec(child, path)

    rec(model, "")
    return out


def apply_plan(model, layer_trainable):
    """Fallback when the oracle is not shipped: `trainable` per layer path as the plan (the analysis' selection) decided."""
    for path, layer in walk_layers(model):
        if layer_trainable.get(path) is False:
            layer.trainable = False
    return [(p, "trainable=False (plan)") for p, _l in walk_layers(model) if layer_trainable.get(p) is False]


def oracle_module():
    """The oracle (python/oracle/oracle.py), whose load_case/load_keras/apply_freeze the runner reuses so that a
    config is applied exactly as the oracle applies it. None when it is not shipped next to the runner."""
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.normpath(os.path.join(here, "..", "oracle"))
    if not os.path.exists(os.path.join(folder, "oracle.py")):
        return None
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        import oracle  # noqa: PLC0415
        return oracle
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(f"runner: oracle.py not importable ({e}); applying the plan directly\n")
        return None


def is_batchnorm(layer):
    return "BatchNormalization" in type(layer).__name__


# ---------------------------------------------------------------- model loading

def import_keras(runtime):
    if runtime == "tf2-keras":
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except Exception as e:  # noqa: BLE001 - any import failure means: no usable TensorFlow
        raise EngineError("no-tensorflow", f"TensorFlow cannot be imported by {sys.executable}: {e}")
    if runtime == "tf2-keras":
        try:
            import tf_keras as keras
            return tf, keras, "tf_keras " + getattr(keras, "__version__", "?")
        except ImportError:
            major_minor = tuple(int(x) for x in tf.__version__.split(".")[:2])
            if major_minor < (2, 16):
                return tf, tf.keras, "tf.keras (TensorFlow %s)" % tf.__version__
            raise EngineError("no-tensorflow", f"the model needs tf.keras 2.x, but TensorFlow {tf.__version__} ships Keras 3 and tf_keras is not installed (pip install tf_keras)")
    if runtime == "keras3":
        try:
            import keras
        except ImportError:
            raise EngineError("no-tensorflow", "Keras 3 is not installed")
        if not keras.__version__.startswith("3"):
            raise EngineError("no-tensorflow", f"the model is a Keras 3 model but keras {keras.__version__} is installed")
        return tf, keras, "keras " + keras.__version__
    raise EngineError("not-rebuildable", f"runtime {runtime}: the Python engine trains Keras models (tf2-keras, keras3) only")


def load_model(keras, path):
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001
        raise EngineError("engine-failure", f"{path}: Keras could not load the model: {e}")


# ---------------------------------------------------------------- variable mapping

def attribute_of(name):
    last = name.split("/")[-1]
    return re.sub(r":\d+$", "", last)


def map_variables(model, request_vars):
    """TF variable -> request variable (IR key), by owning layer path and attribute name."""
    by_layer = {}
    for v in request_vars:
        if v.get("layer") is not None:
            by_layer.setdefault(v["layer"], []).append(v)
    out = []
    for path, layer in walk_layers(model):
        if child_layers(layer):
            continue
        candidates = by_layer.get(path, [])
        for w in layer.weights:
            attr = attribute_of(getattr(w, "path", None) or w.name)
            match = next((c for c in candidates if attribute_of(c["name"]) == attr), None)
            if match is not None:
                out.append((w, match))
    return out


# ---------------------------------------------------------------- the run

def rounding_note(predicted_changes, max_abs_delta, relative_delta, role):
    """Same wording as roundingNote() in src/core/finetune/tfjs/tfjs-engine.ts."""
    if predicted_changes and max_abs_delta == 0 and role == "bias":
        return ("unchanged although trained: a bias followed by a BatchNorm that normalizes with batch statistics has a zero "
                "gradient (the batch mean cancels it); real TensorFlow often shows a round-off change instead")
    if not predicted_changes and max_abs_delta > 0 and relative_delta < 1e-6:
        return "changed by %.1e only: float round-off" % max_abs_delta
    return None


def make_optimizer(keras, settings):
    lr = settings["learningRate"]
    kind = settings["optimizer"]
    if kind == "sgd":
        return keras.optimizers.SGD(learning_rate=lr)
    if kind == "momentum":
        return keras.optimizers.SGD(learning_rate=lr, momentum=0.9)
    return keras.optimizers.Adam(learning_rate=lr, epsilon=1e-7)


def shape_with_batch(shape, bs, what):
    dims = list(shape)
    out = [bs]
    for i, d in enumerate(dims[1:], start=1):
        if d is None:
            raise EngineError("data", f"{what} has an unknown dimension {i} ({dims}): synthetic data needs a fixed input shape")
        out.append(int(d))
    return out


def describe_data(settings):
    d = settings["data"]
    return f"synthetic N(0,1) inputs, U(0,1) targets, seed {settings['seed']}" if d["kind"] == "synthetic" else f"{d['kind']}: {d['path']}"


def load_user_data(kind, path, in_shape, out_shape):
    """Same rules as src/core/finetune/data.ts: .npy inputs, .npz x[/y], CSV rows of inputs[+targets]."""
    import numpy as np
    if kind == "images":
        return load_images(path, in_shape, out_shape)
    in_size = int(np.prod(in_shape))
    out_size = int(np.prod(out_shape))
    try:
        if kind == "csv":
            rows = []
            with open(path, "r", encoding="utf-8") as f:
                for i, line in enumerate(l.strip() for l in f):
                    if not line:
                        continue
                    cells = re.split(r"[,;\t]", line)
                    try:
                        rows.append([float(c) for c in cells])
                    except ValueError:
                        if i == 0 and not rows:
                            continue
                        raise EngineError("data", f"{path}: line {i + 1}: not a number")
            arr = np.asarray(rows, dtype=np.float32)
            if arr.shape[1] == in_size + out_size:
                return arr[:, :in_size], arr[:, in_size:]
            if arr.shape[1] != in_size:
                raise EngineError("data", f"{path}: rows have {arr.shape[1]} columns; the model needs {in_size} input values per sample (plus {out_size} target values, optionally)")
            return arr, None
        loaded = np.load(path, allow_pickle=False)
        if path.lower().endswith(".npz"):
            names = list(loaded.files)
            x = loaded["x"] if "x" in names else loaded[names[0]]
            y = loaded["y"] if "y" in names else (loaded[names[1]] if "x" not in names and len(names) > 1 else None)
        else:
            x, y = loaded, None
    except EngineError:
        raise
    except Exception as e:  # noqa: BLE001
        raise EngineError("data", f"{path}: cannot be read: {e}")
    x = np.asarray(x, dtype=np.float32).reshape(len(x), in_size)
    if y is not None:
        y = np.asarray(y, dtype=np.float32).reshape(len(y), out_size)
    return x, y


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_images(folder, in_shape, out_shape):
    """A folder of images, decoded and resized by TensorFlow to the model's (H, W, C), pixel values 0-255 as
    image_dataset_from_directory yields them. Labels come from sub-folder names (sorted, one-hot) when the
    number of sub-folders equals the output size; otherwise targets are synthetic."""
    import numpy as np
    import tensorflow as tf
    if len(in_shape) != 3:
        raise EngineError("data", f"{folder}: an image folder needs a model input of shape (H, W, C), not {tuple(in_shape)}")
    h, w, c = in_shape
    if not os.path.isdir(folder):
        raise EngineError("data", f"{folder}: not a folder")
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    files = []
    for root, _dirs, names in os.walk(folder):
        for n in sorted(names):
            if n.lower().endswith(IMAGE_EXTENSIONS):
                files.append(os.path.join(root, n))
    files.sort()
    if not files:
        raise EngineError("data", f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    xs = []
    for f in files:
        try:
            img = tf.io.decode_image(tf.io.read_file(f), channels=c, expand_animations=False)
        except Exception as e:  # noqa: BLE001
            raise EngineError("data", f"{f}: cannot be decoded: {e}")
        xs.append(tf.image.resize(tf.cast(img, tf.float32), (h, w)).numpy().reshape(-1))
    x = np.stack(xs).astype(np.float32)
    out_size = int(np.prod(out_shape))
    y = None
    if classes and len(classes) == out_size:
        y = np.zeros((len(files), out_size), dtype=np.float32)
        for i, f in enumerate(files):
            top = os.path.relpath(f, folder).split(os.sep)[0]
            if top in classes:
                y[i, classes.index(top)] = 1.0
    return x, y


def take_batch(a, batch, index):
    import numpy as np
    n = a.shape[0]
    return np.stack([a[(index * batch + i) % n] for i in range(batch)])


def make_batches(model, settings, bs):
    """[(x, [y...])] per step (cycling): the user's data, else one seeded synthetic batch (mulberry32, as the tfjs engine)."""
    import numpy as np
    d = settings["data"]
    if d["kind"] != "synthetic":
        if len(as_list(model.inputs)) != 1 or len(as_list(model.outputs)) != 1:
            raise EngineError("data", f"{d['path']}: user data needs a model with one input and one output; use synthetic data")
        in_shape = [int(v) for v in model.inputs[0].shape[1:]]
        out_shape = [int(v) for v in model.outputs[0].shape[1:]]
        x, y = load_user_data(d["kind"], d["path"], in_shape, out_shape)
        n = max(1, min(settings["steps"], -(-len(x) // bs)))
        out = []
        for i in range(n):
            bx = take_batch(x, bs, i).reshape([bs] + in_shape)
            if y is not None:
                by = take_batch(y, bs, i).reshape([bs] + out_shape)
            else:
                by = synthetic_uniform(settings["seed"] + 1 + i, bs * int(np.prod(out_shape))).reshape([bs] + out_shape)
            out.append((bx, [by]))
        return out
    seed = settings["seed"]
    xs = []
    for name, ishape in input_shapes(model):
        shape = shape_with_batch(ishape, bs, f"input {name}")
        xs.append(synthetic_normal(seed, int(np.prod(shape))).reshape(shape))
        seed += 1
    x = xs[0] if len(xs) == 1 else xs
    if getattr(model, "outputs", None):
        out_shapes = [(getattr(o, "name", "?"), o.shape) for o in as_list(model.outputs)]
    else:
        # Subclassed models have no symbolic outputs: one inference-mode call (writes nothing) gives the shapes.
        out_shapes = [("output", o.shape) for o in as_list(model(x, training=False))]
    ys = []
    for name, oshape in out_shapes:
        shape = shape_with_batch(oshape, bs, f"output {name}")
        ys.append(synthetic_uniform(seed, int(np.prod(shape))).reshape(shape))
        seed += 1
    return [(x, ys)]


def input_shapes(model):
    """(name, shape) of each model input: symbolic inputs (Functional/Sequential), else the input spec a
    subclassed model was saved with."""
    if getattr(model, "inputs", None):
        return [(i.name, i.shape) for i in as_list(model.inputs)]
    spec = getattr(model, "_saved_model_inputs_spec", None)
    if spec is None and hasattr(model, "save_spec"):
        try:
            saved = model.save_spec()
            spec = saved[0][0] if saved else None
        except Exception:  # noqa: BLE001
            spec = None
    if spec is None:
        raise EngineError("data", "the model records no input shape (a subclassed model that was never called before saving)")
    return [(getattr(s, "name", None) or "input", s.shape) for s in as_list(spec)]


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def bn_outputs(tf, layer, x):
    """(BN(x) with batch statistics, BN(x) with the moving statistics), computed by formula, nothing written."""
    axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
    rank = len(x.shape)
    axis = axis % rank
    red = [a for a in range(rank) if a != axis]
    mean, var = tf.nn.moments(x, red)
    shape = [1] * rank
    shape[axis] = -1

    def norm(m, v):
        scale = tf.math.rsqrt(tf.cast(v, x.dtype) + layer.epsilon)
        if getattr(layer, "gamma", None) is not None:
            scale = scale * layer.gamma
        shift = -tf.cast(m, x.dtype) * scale
        if getattr(layer, "beta", None) is not None:
            shift = shift + layer.beta
        return x * tf.reshape(scale, shape) + tf.reshape(shift, shape)

    return norm(mean, var), norm(layer.moving_mean, layer.moving_variance)


def bn_observe(tf, layer, x, y):
    """The layer's train/inference gap on its input x, and which statistics its actual output y was normalized
    with (observed, as the oracle classifies it: whichever formula reproduces y)."""
    yb, ym = bn_outputs(tf, layer, x)
    gap = float(tf.reduce_mean(tf.abs(yb - ym)))
    err_b = float(tf.reduce_max(tf.abs(yb - y)))
    err_m = float(tf.reduce_max(tf.abs(ym - y)))
    return gap, ("batch" if err_b <= err_m else "moving")


def probe(tf, model, bns, x, call_kwargs):
    """Model- and layer-level train/inference gaps on one batch; moving statistics restored afterwards."""
    saved = [(v, v.numpy()) for _, layer in bns for v in (layer.moving_mean, layer.moving_variance)]
    captured = {}
    originals = {}
    for path, layer in bns:
        original = layer.call
        originals[path] = original

        def patched(inputs, *args, __path=path, __orig=original, **kwargs):
            out = __orig(inputs, *args, **kwargs)
            captured[__path] = (inputs, out)
            return out

        layer.call = patched
    try:
        tr = as_list(model(x, **call_kwargs))
    finally:
        for path, layer in bns:
            try:
                del layer.call
            except AttributeError:
                layer.call = originals[path]
    for v, value in saved:
        v.assign(value)
    inf = as_list(model(x, training=False))
    model_gap = sum(float(tf.reduce_mean(tf.abs(a - b))) for a, b in zip(tr, inf)) / len(tr)
    # Moving statistics as they were during the call (restored above), so the classification is exact.
    layer_obs = {path: bn_observe(tf, layer, *captured[path]) for path, layer in bns if path in captured}
    return model_gap, layer_obs


def run_tf1(request):
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import tf1_engine  # noqa: PLC0415
    rid = request["requestId"]

    def progress(phase, message, **kw):
        emit({"type": "progress", "requestId": rid, "phase": phase, "message": message, **kw})

    def step(n, loss, ms):
        if loss is not None:
            emit({"type": "step", "requestId": rid, "step": n, "loss": loss, "ms": ms})

    tools = {"progress": progress, "step": step, "cancelled": lambda: is_cancelled(rid),
             "normal": synthetic_normal, "uniform": synthetic_uniform, "rounding_note": rounding_note}
    _graph_mode["on"] = True
    try:
        result = tf1_engine.run_tf1(request, tools)
    except tf1_engine.Tf1Error as e:
        raise EngineError(e.reason, str(e))
    progress("done", "prediction and observation agree" if result["disagreements"] == 0 else f"{result['disagreements']} variable(s) disagree with the prediction")
    return result


def run(request):
    rid = request["requestId"]
    if request["runtime"] == "tf1-graph":
        return run_tf1(request)
    if _graph_mode["on"]:
        raise EngineError("engine-failure", "this runner process ran a TF1 graph (graph mode): start a new process for a Keras model")
    t0 = time.perf_counter()

    def progress(phase, message, **kw):
        emit({"type": "progress", "requestId": rid, "phase": phase, "message": message, **kw})

    progress("loading-model", f"importing TensorFlow for {request['runtime']}")
    tf, keras, keras_desc = import_keras(request["runtime"])
    import numpy as np

    settings = request["settings"]
    progress("loading-model", f"loading {request['modelPath']}")
    oracle = oracle_module()
    config_path = request.get("configPath")
    training = bool(request.get("training", True))
    if oracle is not None:
        model = None
        try:
            _k, model, _source = oracle.load_keras(request["runtime"], request["modelPath"], None)
        except Exception as e:  # noqa: BLE001
            raise EngineError("engine-failure", f"{request['modelPath']}: Keras could not load the model: {e}")
        if config_path:
            cfg, _model_path = oracle.load_case(config_path)
            actions = oracle.apply_freeze(cfg, model)
            training = cfg["training"]
            applied_by = "python/oracle/oracle.py apply_freeze"
        else:
            actions = apply_plan(model, request["layerTrainable"])
            applied_by = "the plan's layer selection"
    else:
        model = load_model(keras, request["modelPath"])
        actions = apply_plan(model, request["layerTrainable"])
        applied_by = "the plan's layer selection"
    call_kwargs = {} if training is None else {"training": bool(training)}

    pairs = map_variables(model, request["modelVariables"])
    bns = [(p, l) for p, l in walk_layers(model) if is_batchnorm(l)]

    bs = settings["batchSize"]
    batches = make_batches(model, settings, bs)
    x, ys = batches[0]

    before = {id(w): w.numpy().copy() for w, _ in pairs}
    gap_before, layer_obs_before = probe(tf, model, bns, x, call_kwargs)
    optimizer = make_optimizer(keras, settings)
    trainable = model.trainable_variables

    @tf.function
    def step_fn(xb, yb):
        with tf.GradientTape() as tape:
            outs = as_list(model(xb, **call_kwargs))
            loss = tf.add_n([tf.reduce_mean(tf.square(o - y)) for o, y in zip(outs, yb)])
            if model.losses:
                loss = loss + tf.add_n(model.losses)
        if trainable:
            grads = tape.gradient(loss, trainable)
            optimizer.apply_gradients(zip(grads, trainable))
        return loss

    losses, step_ms = [], []
    ttfs = 0.0
    progress("training", f"training {settings['steps']} step(s), {len(trainable)} trainable variable(s)")
    for step in range(settings["steps"]):
        if is_cancelled(rid):
            raise EngineError("cancelled", "verification cancelled")
        ts = time.perf_counter()
        bx, by = batches[step % len(batches)]
        value = float(step_fn(bx, by))
        ms = (time.perf_counter() - ts) * 1000
        if step == 0:
            ttfs = (time.perf_counter() - t0) * 1000
        losses.append(value)
        step_ms.append(ms)
        emit({"type": "step", "requestId": rid, "step": step + 1, "loss": value, "ms": ms})
        progress("training", f"step {step + 1}/{settings['steps']}", step=step + 1, totalSteps=settings["steps"])

    progress("measuring", "comparing variables")
    gap_after, layer_obs_after = probe(tf, model, bns, x, call_kwargs)
    predictions = {p["key"]: p for p in request["predictions"]}
    variables = []
    drift = {}
    for w, v in pairs:
        b = before[id(w)]
        a = w.numpy()
        d = float(np.max(np.abs(a - b))) if a.size else 0.0
        observed = d > 0.0
        p = predictions.get(v["key"])
        rel = d / max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
        note = rounding_note(p["changes"], d, rel, v["role"]) if p and p["changes"] != observed else None
        variables.append({
            "key": v["key"], "name": v["name"], "layer": v["layer"], "role": v["role"],
            "predicted": p["changes"] if p else None, "predictedReason": p["reason"] if p else None,
            "observed": observed, "maxAbsDelta": d,
            "relativeDelta": rel,
            "agree": (p["changes"] == observed) if p else False,
            **({"note": note} if note else {}),
        })
        drift[(v["layer"], attribute_of(v["name"]))] = d
    batch_norms = []
    for path, layer in bns:
        gap_b, mode = layer_obs_before.get(path, (0.0, None))
        gap_a = layer_obs_after.get(path, (0.0, None))[0]
        batch_norms.append({
            "layer": path,
            "normalizedWith": mode or "moving",
            "updatedMovingStats": bool(drift.get((path, "moving_mean"), 0.0) > 0 or drift.get((path, "moving_variance"), 0.0) > 0),
            "movingMeanDrift": drift.get((path, "moving_mean"), 0.0),
            "movingVarianceDrift": drift.get((path, "moving_variance"), 0.0),
            "trainInferenceGapBefore": gap_b,
            "trainInferenceGapAfter": gap_a,
        })
    predicted = [r for r in variables if r["predicted"] is not None]
    agreeing = sum(1 for r in predicted if r["agree"])
    warnings = [f"config applied by {applied_by}: " + "; ".join(f"{p}: {a}" for p, a in actions)] if actions else []
    unmapped = len(request["modelVariables"]) - len(pairs)
    if unmapped > 0:
        warnings.append(f"{unmapped} variable(s) of the model file were not matched to a Keras variable and are not reported")
    if request.get("trainingOverrides") and request["runtime"] == "keras3":
        warnings.append("training overrides are not applied by Keras 3 functional models (3.0-3.15.1 inject the outer training flag)")
    result = {
        "engine": "python",
        "engineDetail": f"TensorFlow {tf.__version__}, {keras_desc}, Python {sys.version.split()[0]} ({sys.executable})",
        "runtime": request["runtime"],
        "steps": settings["steps"],
        "batchSize": bs,
        "data": describe_data(settings),
        "loss": losses,
        "stepMs": step_ms,
        "timeToFirstStepMs": ttfs,
        "variables": variables,
        "batchNorms": batch_norms,
        "modelTrainInferenceGapBefore": gap_before,
        "modelTrainInferenceGapAfter": gap_after,
        "agreement": (agreeing / len(predicted)) if predicted else 1.0,
        "disagreements": len(predicted) - agreeing,
        "tolerance": 0,
        "warnings": warnings,
    }
    progress("done", "prediction and observation agree" if result["disagreements"] == 0 else f"{result['disagreements']} variable(s) disagree with the prediction")
    return result


def read_commands(queue, ready):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except ValueError:
            continue
        if cmd.get("type") == "verify" and isinstance(cmd.get("request"), dict):
            queue.append(cmd["request"])
            ready.release()
        elif cmd.get("type") == "cancel":
            _cancelled_ids.add(cmd.get("requestId"))
    _cancelled.set()  # stdin closed: the host is gone
    ready.release()


def serve(request):
    rid = request.get("requestId", "")
    try:
        result = run(request)
        emit({"type": "result", "requestId": rid, "result": result})
        return 0
    except EngineError as e:
        err = {"reason": e.reason, "message": str(e)}
        if e.unsupported:
            err["unsupported"] = e.unsupported
        emit({"type": "error", "requestId": rid, "error": err})
        return 1
    except Exception as e:  # noqa: BLE001 - reported, never a silent crash
        emit({"type": "error", "requestId": rid, "error": {"reason": "engine-failure", "message": f"{type(e).__name__}: {e}"}})
        return 1


def main():
    queue = []
    ready = threading.Semaphore(0)
    threading.Thread(target=read_commands, args=(queue, ready), daemon=True).start()
    code = None
    while True:
        ready.acquire()
        if not queue:
            break  # stdin closed and nothing left
        code = serve(queue.pop(0)) if code is None else max(code, serve(queue.pop(0)))
        if _cancelled.is_set() and not queue:
            break
    return 2 if code is None else code


if __name__ == "__main__":
    sys.exit(main())
