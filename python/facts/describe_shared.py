"""Establish, with real TensorFlow / h5py, the facts the reader tests check for ../shared/fixtures/real.

Independent of our TypeScript readers: checkpoint keys, shapes and dtypes come from
tf.train.list_variables; HDF5 weights from h5py; SavedModel meta graph facts from TensorFlow's own
protobuf classes. Output: test/fixtures/shared-real-expected.json (committed, so tests need no TensorFlow).

usage: $VENV/bin/python python/facts/describe_shared.py ../shared/fixtures/real test/fixtures/shared-real-expected.json
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
from google.protobuf import text_format  # noqa: E402


def describe_saved_model(folder):
    sm = saved_model_pb2.SavedModel()
    pb = os.path.join(folder, "saved_model.pb")
    if os.path.exists(pb):
        with open(pb, "rb") as f:
            sm.ParseFromString(f.read())
    else:
        with open(os.path.join(folder, "saved_model.pbtxt")) as f:
            text_format.Parse(f.read(), sm, allow_unknown_extension=True)
    metas = []
    for mg in sm.meta_graphs:
        info = mg.meta_info_def
        colls = {}
        for name, c in mg.collection_def.items():
            kind = c.WhichOneof("kind")
            colls[name] = len(getattr(c, kind).value) if kind else 0
        metas.append({
            "tags": list(info.tags),
            "tensorflowVersion": info.tensorflow_version or None,
            "nodeCount": len(mg.graph_def.node),
            "functionCount": len(mg.graph_def.library.function),
            "signatures": sorted(mg.signature_def.keys()),
            "collections": colls,
            "hasObjectGraph": len(mg.object_graph_def.nodes) > 0,
            "objectGraphNodes": len(mg.object_graph_def.nodes),
            "fusedBatchNormNodes": sum(1 for n in mg.graph_def.node if n.op.startswith("FusedBatchNorm")),
        })
    ckpt = os.path.join(folder, "variables", "variables")
    entries = []
    if os.path.exists(ckpt + ".index"):
        for key, shape in tf.train.list_variables(ckpt):
            if key == "_CHECKPOINTABLE_OBJECT_GRAPH":
                continue
            reader = tf.train.load_checkpoint(ckpt)
            dtype = reader.get_variable_to_dtype_map()[key].name
            entries.append({"key": key, "shape": list(shape), "dtype": dtype})
    return {"metaGraphs": metas, "checkpoint": entries}


def describe_h5(path):
    out = {"datasets": []}
    with h5py.File(path, "r") as f:
        for k in ("keras_version", "backend"):
            v = f.attrs.get(k)
            out[k] = v.decode() if isinstance(v, bytes) else (str(v) if v is not None else None)
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out["datasets"].append({"key": obj.name, "shape": list(obj.shape), "dtype": str(obj.dtype)})

        f.visititems(visit)
        out["hasOptimizerWeights"] = "optimizer_weights" in f
    return out


def main(src, dst):
    facts = {}
    for name in sorted(os.listdir(src)):
        folder = os.path.join(src, name)
        if not os.path.isdir(folder):
            continue
        h5s = [f for f in os.listdir(folder) if f.endswith(".h5")]
        if h5s:
            facts[name] = {"kind": "h5", "file": h5s[0], **describe_h5(os.path.join(folder, h5s[0]))}
        else:
            facts[name] = {"kind": "saved-model", **describe_saved_model(folder)}
    facts["_generator"] = {"script": "python/facts/describe_shared.py", "tensorflow": tf.__version__, "h5py": h5py.__version__}
    with open(dst, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
