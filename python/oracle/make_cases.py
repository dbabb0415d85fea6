"""Write the oracle's freeze configs: test/oracle/cases/*.freeze.json.

Runs with any Python 3 (reads the fixtures' expected.json, no TensorFlow).
Each case may carry an "expect" block: the HYPOTHESIS from /work/shared/SEMANTICS.md (row ids in
expect.source). The oracle never uses it to decide anything: it only reports whether real
TensorFlow agreed (observation.expectCheck).
"""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import fi_common as C  # noqa: E402

CASES = os.path.join(C.REPO, "test", "oracle", "cases")
GEN = C.GEN


def exp_of(fixture):
    return C.read_json(os.path.join(GEN, fixture, "expected.json"))


def rel_model(path_in_repo):
    return os.path.relpath(os.path.join(C.REPO, path_in_repo), CASES)


# ---------------------------------------------------------------------------------------------
# hypotheses
# ---------------------------------------------------------------------------------------------

def tf1_hypothesis(e, cfg):
    """SEMANTICS A1-A6 / B1-B3: var changes iff optimised; moving stats change iff training is
    true AND that BN's update op is a dependency of the step; normalises with batch stats iff
    training is true."""
    training = cfg["training"]
    if cfg.get("useSavedTrainOp") == "collection[0]":
        var_list = set(e["graph"]["varList"])
        run_updates = set(e["graph"]["trainOpUpdateOps"])  # hypothesis: same as the train op
    elif cfg.get("useSavedTrainOp"):
        var_list = set(e["graph"]["varList"])
        run_updates = set(e["graph"]["trainOpUpdateOps"])
    else:
        trainable = [v["name"] for v in e["variables"] if v["trainable"]]
        var_list = set(C.filter_names(trainable, cfg["train"] or None, cfg["freeze"] or None,
                                      cfg["patternSyntax"]))
        uo = cfg["updateOps"]
        allu = e["graph"]["updateOpsCollection"]
        if uo == "all":
            run_updates = set(allu)
        elif uo == "none":
            run_updates = set()
        else:
            run_updates = {u for u in allu for s in uo["scopes"] if re.match(s, u)}
    changed = {}
    bns = {}
    overrides = cfg.get("trainingOverrides") or {}
    for b in e["batchNorms"]:
        ups = set(b["updateOpsInCollection"]) & run_updates
        key = C.tf1_override_key(b["layer"], overrides)  # nearest enclosing trainingOverrides scope wins
        t = overrides[key] if key is not None else training
        stats = bool(t and ups)
        bns[b["layer"]] = {"movingStatsChanged": stats, "normalizesWith": "batch" if t else "moving"}
        for k in ("moving_mean", "moving_variance"):
            changed[b[k]] = stats
    for v in e["variables"]:
        if v["name"] not in changed:
            if v["name"] == "global_step":
                continue
            changed[v["name"]] = v["name"] in var_list
    src = ["A2", "A3", "A4", "A6"] + (["B1"] if "slim" in e["fixture"] else [])
    rule = "optimised <=> in var_list; stats move <=> training && update op selected"
    if overrides:
        rule += "; training of a BatchNorm = its nearest trainingOverrides scope, else the fed is_training"
    return {"source": "SEMANTICS.md " + ",".join(src) + " (rule: %s)" % rule,
            "changed": changed, "batchNorms": bns}


def keras_hypothesis(e, cfg, flavor):
    """SEMANTICS D1-D6 (tf_keras) / E1-E5 (Keras 3): a layer's variables change iff the layer is
    effectively trainable; a BN uses batch stats and updates them iff its effective training
    value is true AND the layer is trainable (D2/E2). Effective training value: explicit
    functional call arg wins in tf_keras (D5), the OUTER value wins in Keras 3 functional (E5);
    no training arg means inference (D6)."""
    layers = {l["path"]: l for l in e["layers"]}
    eff = {}
    for path, l in layers.items():
        t = l["configTrainable"] if cfg.get("baseTrainable", "saved") == "saved" else True
        eff[path] = t
    if cfg.get("baseTrainable") == "model" and flavor == "keras3":
        # hypothesis for the raw `model.trainable = True` (assumed recursive)
        pass
    sel = set()
    if cfg["train"]:
        for path in layers:
            parts = path.split("/")
            anc = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
            if any(C.pattern_match(cfg["patternSyntax"], p, a) for p in cfg["train"] for a in anc):
                sel.add(path)
        for path, l in layers.items():
            if not l["isModel"] and path not in sel:
                eff[path] = False
    for path in layers:
        if cfg["freeze"] and any(C.pattern_match(cfg["patternSyntax"], p, path) for p in cfg["freeze"]):
            for q in layers:
                if q == path or q.startswith(path + "/"):
                    eff[q] = False

    def effective(path):
        parts = path.split("/")
        return all(eff.get("/".join(parts[:i]), True) for i in range(1, len(parts) + 1))

    changed = {}
    bns = {}
    for b in e["batchNorms"]:
        path = b["layer"]
        training = cfg["training"]
        parent = path.rsplit("/", 1)[0] if "/" in path else None
        recorded = e.get("callTrainingArgs", {})
        if training is None:
            t = False
        elif flavor == "tf_keras" and parent in recorded:
            t = recorded[parent]
        elif flavor == "tf_keras" and path in recorded:
            t = recorded[path]
        else:
            t = bool(training)
        t = t and effective(path)
        bns[path] = {"movingStatsChanged": t, "normalizesWith": "batch" if t else "moving"}
        for k in ("moving_mean", "moving_variance"):
            changed[b[k]] = t
    for v in e["variables"]:
        if v["name"] in changed:
            continue
        changed[v["name"]] = bool(effective(v["layer"]) and v["createdTrainable"])
    src = "D1-D6" if flavor == "tf_keras" else "E1-E5"
    return {"source": "SEMANTICS.md %s (rule: weights move <=> layer effectively trainable; BN stats move and batch stats used <=> effective training && trainable)" % src,
            "changed": changed, "batchNorms": bns}


# ---------------------------------------------------------------------------------------------

CASE_LIST = []


def case(name, fixture, artifact, runtime, description, **kw):
    CASE_LIST.append((name, fixture, artifact, runtime, description, kw))


def tf1(name, fixture, description, artifact="saved_model", **kw):
    case(name, fixture, artifact, "tf1-graph", description, **kw)


ABC = ["A", "B", "C"]
# ---- TF1 graph ---------------------------------------------------------------------------------
tf1("tf1_seed_all_updates", "tf1_seed", "THE SEED CASE: exclude A,B,C (regex, filter_variables), is_training=True, train op under all UPDATE_OPS", freeze=ABC)
tf1("tf1_seed_training_false", "tf1_seed", "seed config but is_training fed False", freeze=ABC, training=False)
tf1("tf1_seed_no_updates", "tf1_seed", "seed config, train op WITHOUT the update-op dependency", freeze=ABC, updateOps="none")
tf1("tf1_seed_scoped_updates_D", "tf1_seed", "seed config, update ops = get_collection(UPDATE_OPS, scope='D')", freeze=ABC, updateOps={"scopes": ["D"]})
tf1("tf1_seed_scoped_updates_A", "tf1_seed", "seed config, update ops only from scope 'A' (a FROZEN block): its stats still move", freeze=ABC, updateOps={"scopes": ["A"]})
tf1("tf1_seed_scoped_updates_AD_training_false", "tf1_seed", "update ops from scopes A and D, is_training False", freeze=ABC, updateOps={"scopes": ["A", "D"]}, training=False)
tf1("tf1_seed_allowlist_D", "tf1_seed", "train allow-list ['D'] (include_patterns), no excludes", train=["D"])
tf1("tf1_seed_allowlist_bn_exclude_A", "tf1_seed", "train ['batch_normalization'] then exclude ['A']: only gamma/beta of B,C,D", train=["batch_normalization"], freeze=["A"])
tf1("tf1_seed_prefix", "tf1_seed", "patternSyntax prefix: exclude 'A/','B/','C/' (like scope=)", patternSyntax="prefix", freeze=["A/", "B/", "C/"])
tf1("tf1_seed_glob", "tf1_seed", "patternSyntax glob: exclude 'A/*','B/*','C/*'", patternSyntax="glob", freeze=["A/*", "B/*", "C/*"])
tf1("tf1_seed_glob_bn_affine", "tf1_seed", "glob exclude '*/batch_normalization/*': every gamma/beta frozen, convs/dense train, all stats still move", patternSyntax="glob", freeze=["*/batch_normalization/*"])
tf1("tf1_seed_regex_gamma_beta", "tf1_seed", "regex exclude ['gamma','beta']: BN affine frozen everywhere (A4 drift everywhere)", freeze=["gamma", "beta"])
tf1("tf1_seed_freeze_all", "tf1_seed", "exclude '.*' (empty var_list): the step only runs update ops -> stats still drift", freeze=[".*"])
tf1("tf1_seed_freeze_all_training_false", "tf1_seed", "exclude '.*' and is_training False: nothing changes", freeze=[".*"], training=False)
tf1("tf1_seed_freeze_nothing", "tf1_seed", "no excludes: every variable trains", freeze=[])
tf1("tf1_seed_regex_lowercase_a_trap", "tf1_seed", "regex exclude ['a'] (re.search!): matches every name containing 'a' (batch_normalization/*, bias) -> only conv2d/kernel and dense/kernel train", freeze=["a"])
tf1("tf1_seed_ckpt_meta", "tf1_seed", "seed config loaded from model.ckpt.meta + checkpoint instead of the SavedModel", artifact="ckpt/model.ckpt.meta", freeze=ABC)
tf1("tf1_seed_saved_train_op", "tf1_seed", "run the train_op saved in the graph (GradientDescent, all UPDATE_OPS, var_list excludes A,B,C)", useSavedTrainOp=True, freeze=ABC)
tf1("tf1_seed_saved_train_op_training_false", "tf1_seed", "saved train_op with is_training fed False", useSavedTrainOp=True, freeze=ABC, training=False)
tf1("tf1_scoped_updates_saved_train_op", "tf1_scoped_updates", "saved train_op that depends only on UPDATE_OPS of scope D", useSavedTrainOp=True, freeze=ABC, updateOps={"scopes": ["D"]})
tf1("tf1_no_updates_saved_train_op", "tf1_no_updates", "saved train_op without update-op dependency", useSavedTrainOp=True, freeze=ABC, updateOps="none")
tf1("tf1_no_updates_rebuilt_all", "tf1_no_updates", "same fixture, NEW train op under all UPDATE_OPS (the collection is still in the graph)", freeze=ABC)
tf1("tf1_bool_placeholder_true", "tf1_bool_placeholder", "plain tf.bool is_training placeholder fed True", freeze=ABC)
tf1("tf1_bool_placeholder_false", "tf1_bool_placeholder", "plain tf.bool is_training placeholder fed False", freeze=ABC, training=False)
tf1("tf1_momentum_rebuilt", "tf1_momentum", "Momentum fixture, oracle's GradientDescent train op (slots are not observed)", freeze=ABC)
tf1("tf1_momentum_saved_train_op", "tf1_momentum", "saved Momentum train_op (slot variables excluded from the observation)", useSavedTrainOp=True, freeze=ABC)
tf1("tf1_nonfused_seed", "tf1_nonfused", "fused=False BN (moments + AssignMovingAvg), seed config", freeze=ABC)
tf1("tf1_nonfused_training_false", "tf1_nonfused", "fused=False BN, is_training False", freeze=ABC, training=False)
tf1("tf1_nonfused_ckpt_no_updates", "tf1_nonfused", "fused=False BN from .meta checkpoint, no update ops", artifact="ckpt/model.ckpt.meta", freeze=ABC, updateOps="none")
tf1("tf1_slim_saved_train_op", "tf1_slim", "slim.learning.create_train_op (whole UPDATE_OPS); its var_list came from regex exclude A,B,C which ALSO matched 'D/BatchNorm/beta' ('B' in BatchNorm)", useSavedTrainOp=True, freeze=ABC)
tf1("tf1_slim_train_op_collection_first", "tf1_slim", "run get_collection('train_op')[0]: that is the Optimizer.apply_gradients op (TF appends it to the collection automatically), NOT slim's train tensor, so the update barrier is skipped", useSavedTrainOp="collection[0]", freeze=ABC)
tf1("tf1_slim_regex_trap", "tf1_slim", "slim graph, NEW train op with regex exclude A,B,C: 'B' matches every */BatchNorm/* so D's beta is frozen too", freeze=ABC)
tf1("tf1_slim_prefix", "tf1_slim", "slim graph, prefix exclude 'A/','B/','C/': D's beta trains", patternSyntax="prefix", freeze=["A/", "B/", "C/"])
tf1("tf1_slim_training_false", "tf1_slim", "slim graph, is_training False", patternSyntax="prefix", freeze=["A/", "B/", "C/"], training=False)
tf1("tf1_resource_seed", "tf1_resource", "resource variables + control flow v2, seed config", freeze=ABC)
tf1("tf1_resource_training_false", "tf1_resource", "resource variables, is_training False", freeze=ABC, training=False)
tf1("tf1_resource_scoped_D", "tf1_resource", "resource variables, update ops of scope D only", freeze=ABC, updateOps={"scopes": ["D"]})

# ---- TF1 trainingOverrides: the oracle rewires the overridden BatchNorm scopes to a constant training flag
# (fi_common.tf1_apply_training_overrides), exactly as the Python verify engine does
OFF_ABC = {"A": False, "B": False, "C": False}
tf1("tf1_seed_override_frozen_false", "tf1_seed", "trainingOverrides A,B,C=False (the frozen blocks built with training=False), exclude A,B,C, all UPDATE_OPS: frozen stats stay, D trains and updates", freeze=ABC, trainingOverrides=OFF_ABC)
tf1("tf1_seed_override_frozen_false_scoped_A", "tf1_seed", "overrides A,B,C=False, update ops only from scope 'A': A's update op runs but its cond takes the inference branch, D's never runs", freeze=ABC, trainingOverrides=OFF_ABC, updateOps={"scopes": ["A"]})
tf1("tf1_seed_override_frozen_false_scoped_D", "tf1_seed", "overrides A,B,C=False and update ops of scope 'D/' only", freeze=ABC, trainingOverrides=OFF_ABC, updateOps={"scopes": ["D/"]})
tf1("tf1_seed_override_D_true_training_false", "tf1_seed", "is_training fed False, trainingOverrides D=True: only D normalizes with batch statistics and updates them", freeze=ABC, training=False, trainingOverrides={"D": True})
tf1("tf1_seed_override_nested", "tf1_seed", "overrides A=False but A/batch_normalization=True (the nearer entry wins), B=False; nothing frozen", trainingOverrides={"A": False, "A/batch_normalization": True, "B": False})
tf1("tf1_seed_override_unused_key", "tf1_seed", "overrides C=False and E=False (E covers no BatchNorm: reported, not applied), exclude A,B,C", freeze=ABC, trainingOverrides={"C": False, "E": False})
tf1("tf1_seed_ckpt_override_frozen_false", "tf1_seed", "overrides A,B,C=False on the .meta + checkpoint", artifact="ckpt/model.ckpt.meta", freeze=ABC, trainingOverrides=OFF_ABC)
tf1("tf1_seed_saved_train_op_override_frozen_false", "tf1_seed", "the saved train op (all UPDATE_OPS) on the graph rewired with A,B,C=False", useSavedTrainOp=True, freeze=ABC, trainingOverrides=OFF_ABC)
tf1("tf1_nonfused_override_frozen_false", "tf1_nonfused", "fused=False BN (moments + AssignMovingAvg), overrides A,B,C=False, all UPDATE_OPS", freeze=ABC, trainingOverrides=OFF_ABC)
tf1("tf1_nonfused_ckpt_override_mixed", "tf1_nonfused", "fused=False from .meta, is_training False, overrides C=True and D=True, update ops of scope C only: C updates, D batch stats without update", artifact="ckpt/model.ckpt.meta", freeze=ABC, training=False, trainingOverrides={"C": True, "D": True}, updateOps={"scopes": ["C"]})
tf1("tf1_slim_override_frozen_false", "tf1_slim", "slim graph, prefix exclude A/,B/,C/, overrides A,B,C=False", patternSyntax="prefix", freeze=["A/", "B/", "C/"], trainingOverrides=OFF_ABC)
tf1("tf1_slim_saved_train_op_override_frozen_false", "tf1_slim", "slim create_train_op (whole UPDATE_OPS) on the graph rewired with A,B,C=False", useSavedTrainOp=True, freeze=ABC, trainingOverrides=OFF_ABC)
tf1("tf1_resource_override_frozen_false", "tf1_resource", "control flow v2 (If) + resource variables, overrides A,B,C=False, all UPDATE_OPS", freeze=ABC, trainingOverrides=OFF_ABC)
tf1("tf1_resource_override_mixed_training_false", "tf1_resource", "control flow v2, is_training False, overrides B=True and D=True, update ops of scope D only: B batch stats without update, D updates and trains", freeze=ABC, training=False, trainingOverrides={"B": True, "D": True}, updateOps={"scopes": ["D"]})
tf1("tf1_bool_placeholder_override_all_false", "tf1_bool_placeholder", "plain bool placeholder fed True, every scope overridden False (A-D): nothing normalizes with batch statistics", freeze=ABC, trainingOverrides={"A": False, "B": False, "C": False, "D": False})


# ---- tf_keras (Keras 2) --------------------------------------------------------------------------
def k2(name, fixture, artifact, description, **kw):
    case(name, fixture, artifact, "tf2-keras", description, **kw)


SM = "saved_model"
NESTED = {"base": False}
k2("k2_cnn_bn_train", "k2_cnn_bn", SM, "all trainable, training=True (D1)")
k2("k2_cnn_bn_inference_step", "k2_cnn_bn", SM, "all trainable, model(x, training=False): gamma/beta train, stats frozen", training=False)
k2("k2_cnn_bn_training_none", "k2_cnn_bn", SM, "custom loop calling model(x) with NO training arg (D6)", training=None)
k2("k2_cnn_bn_freeze_bn1", "k2_cnn_bn", SM, "freeze ['bn1'], training=True: frozen BN runs in inference mode (D2)", freeze=["bn1"])
k2("k2_cnn_bn_freeze_all_bn_glob", "k2_cnn_bn", SM, "glob freeze 'bn*': both BNs inference mode, convs/head train", patternSyntax="glob", freeze=["bn*"])
k2("k2_cnn_bn_allowlist_head", "k2_cnn_bn", SM, "train allow-list ['head']: everything else frozen", train=["head"])
k2("k2_cnn_bn_h5_freeze_bn2_prefix", "k2_cnn_bn_h5", "k2_cnn_bn.h5", "HDF5 model, prefix freeze ['bn2']", patternSyntax="prefix", freeze=["bn2"])
k2("k2_cnn_bn_h5_freeze_conv1", "k2_cnn_bn_h5", "k2_cnn_bn.h5", "HDF5 model, freeze conv1 only: bn1 still trains and updates", freeze=["conv1"])
k2("k2_cnn_bn_frozen_saved_flags", "k2_cnn_bn_frozen", SM, "fixture saved with conv1+bn1 trainable=False; no extra freeze")
k2("k2_cnn_bn_frozen_unfrozen", "k2_cnn_bn_frozen", SM, "baseTrainable=all: every layer set trainable=True before the step", baseTrainable="all")
k2("k2_nested_frozen_base_saved", "k2_nested_frozen_base", SM, "frozen base called with training=False, head trains (D3)", trainingOverrides=NESTED)
k2("k2_nested_frozen_base_h5_saved", "k2_nested_frozen_base_h5", "k2_nested_frozen_base.h5", "same from .h5", trainingOverrides=NESTED)
k2("k2_nested_base_unfrozen_recorded_training_false", "k2_nested_frozen_base", SM, "baseTrainable=all: base trainable but called with recorded training=False (D5: BN uses moving stats, gamma/beta still train)", baseTrainable="all", trainingOverrides=NESTED)
k2("k2_nested_base_unfrozen_model_flag", "k2_nested_frozen_base", SM, "baseTrainable=model: only `model.trainable = True` (tf_keras recurses into base)", baseTrainable="model", trainingOverrides=NESTED)
k2("k2_nested_unfrozen_freeze_base_bn2", "k2_nested_frozen_base", SM, "baseTrainable=all then freeze ['base/bn2']", baseTrainable="all", freeze=["base/bn2"], trainingOverrides=NESTED)
k2("k2_nested_unfrozen_regex_bn", "k2_nested_frozen_base", SM, "baseTrainable=all then regex freeze ['bn'] (matches base/bn1..3 and head_bn)", baseTrainable="all", freeze=["bn"], trainingOverrides=NESTED)
k2("k2_nested_training_false", "k2_nested_frozen_base", SM, "saved flags, outer training=False", training=False, trainingOverrides=NESTED)
k2("k2_nested_allowlist_base_bn3", "k2_nested_frozen_base_h5", "k2_nested_frozen_base.h5", "baseTrainable=all, train allow-list ['base/bn3','head$']: a trainable BN inside a base called with training=False", baseTrainable="all", train=["base/bn3", "head$"], trainingOverrides=NESTED)
k2("k2_subclassed_train", "k2_subclassed", SM, "subclassed model (call passes training through), training=True")
k2("k2_subclassed_freeze_bn", "k2_subclassed", SM, "subclassed, freeze ['bn'] (D2)", freeze=["bn"])


# ---- Keras 3 -------------------------------------------------------------------------------------
def k3(name, fixture, description, **kw):
    case(name, fixture, fixture + ".keras", "keras3", description, **kw)


k3("k3_cnn_bn_train", "k3_cnn_bn", "Keras 3, all trainable, training=True (E1)")
k3("k3_cnn_bn_inference_step", "k3_cnn_bn", "Keras 3, training=False step", training=False)
k3("k3_cnn_bn_training_none", "k3_cnn_bn", "Keras 3, model(x) without training arg", training=None)
k3("k3_cnn_bn_freeze_bn1", "k3_cnn_bn", "Keras 3 freeze ['bn1'] with explicit training=True (E2)", freeze=["bn1"])
k3("k3_cnn_bn_allowlist_head", "k3_cnn_bn", "Keras 3 train allow-list ['head']", train=["head"])
k3("k3_cnn_bn_frozen_saved_flags", "k3_cnn_bn_frozen", "Keras 3 fixture saved with conv1+bn1 frozen")
k3("k3_cnn_bn_frozen_unfrozen", "k3_cnn_bn_frozen", "Keras 3 baseTrainable=all", baseTrainable="all")
k3("k3_nested_frozen_base_saved", "k3_nested_frozen_base", "Keras 3 frozen base (E3), outer training=True", trainingOverrides=NESTED)
k3("k3_nested_base_unfrozen_recorded_training_false", "k3_nested_frozen_base", "Keras 3 baseTrainable=all, base recorded with training=False, outer training=True (E5: outer value wins)", baseTrainable="all", trainingOverrides=NESTED)
k3("k3_nested_base_unfrozen_model_flag", "k3_nested_frozen_base", "Keras 3 baseTrainable=model: only `model.trainable = True` on an already-trainable outer model", baseTrainable="model", trainingOverrides=NESTED)
k3("k3_nested_base_unfrozen_training_false", "k3_nested_frozen_base", "Keras 3 baseTrainable=all, outer training=False", baseTrainable="all", training=False, trainingOverrides=NESTED)
k3("k3_nested_unfrozen_freeze_head_bn", "k3_nested_frozen_base", "Keras 3 baseTrainable=all, freeze ['head_bn']", baseTrainable="all", freeze=["head_bn"], trainingOverrides=NESTED)
k3("k3_nested_allowlist_base_bn3", "k3_nested_frozen_base", "Keras 3 baseTrainable=all, train ['base/bn3','head$']: trainable BN in a base recorded with training=False", baseTrainable="all", train=["base/bn3", "head$"], trainingOverrides=NESTED)


def main():
    os.makedirs(CASES, exist_ok=True)
    for old in glob.glob(os.path.join(CASES, "*.freeze.json")):
        os.remove(old)
    for name, fixture, artifact, runtime, description, kw in CASE_LIST:
        e = exp_of(fixture)
        model = rel_model(os.path.join("test", "fixtures", "generated", fixture, artifact))
        cfg = {
            "description": description,
            "model": model,
            "runtime": runtime,
            "patternSyntax": kw.get("patternSyntax", "regex"),
            "freeze": kw.get("freeze", []),
            "train": kw.get("train", []),
            "training": kw.get("training", True),
            "trainingOverrides": kw.get("trainingOverrides", {}),
        }
        if runtime == "tf1-graph":
            cfg["updateOps"] = kw.get("updateOps", "all")
            if kw.get("useSavedTrainOp"):
                cfg["useSavedTrainOp"] = kw["useSavedTrainOp"]
            hyp = tf1_hypothesis(e, cfg)
        else:
            cfg["baseTrainable"] = kw.get("baseTrainable", "saved")
            hyp = keras_hypothesis(e, cfg, "keras3" if runtime == "keras3" else "tf_keras")
        cfg["expect"] = hyp
        C.write_json(os.path.join(CASES, name + ".freeze.json"), cfg)
    print("make_cases: wrote %d cases" % len(CASE_LIST))


if __name__ == "__main__":
    main()
