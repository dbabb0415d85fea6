"""Writes a real TF1-graph SavedModel with 10,000 tiny variables, for the inspector's large-table e2e scenario.

Usage: python make_many_variables.py OUT_DIR [N_VARIABLES]
Run with the project's TensorFlow venv (e.g. $HOME/.cache/freeze-inspector/venvs/tf215/bin/python).
OUT_DIR/saved_model/ receives the SavedModel, OUT_DIR/expected.json what TensorFlow itself reports
(variable count and names), so the harness checks the inspector against TensorFlow rather than against itself.
The graph is built the TF1 way (tf.compat.v1 variable scopes, Session, Saver), as a large slim-era model is:
100 blocks x 25 layers, each with a [2, 2] kernel, a [2] bias, and every 5th layer a BatchNorm (4 variables).
"""
import json
import os
import shutil
import sys
import time


def main():
    out = os.path.abspath(sys.argv[1])
    target = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.time()
    import tensorflow as tf

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    graph = tf.Graph()
    names = []
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 2], name="x")
        h = x
        block = 0
        while len(names) < target:
            with tf1.variable_scope(f"block_{block:03d}"):
                for layer in range(25):
                    if len(names) >= target:
                        break
                    with tf1.variable_scope(f"dense_{layer:02d}"):
                        k = tf1.get_variable("kernel", [2, 2], initializer=tf1.glorot_uniform_initializer())
                        names.append(k.op.name)
                        if len(names) < target:
                            b = tf1.get_variable("bias", [2], initializer=tf1.zeros_initializer())
                            names.append(b.op.name)
                            h = tf.matmul(h, k) + b
                        else:
                            h = tf.matmul(h, k)
                    if layer % 5 == 4 and len(names) + 4 <= target:
                        with tf1.variable_scope(f"bn_{layer:02d}"):
                            for v, init in (("gamma", tf1.ones_initializer()), ("beta", tf1.zeros_initializer()),
                                            ("moving_mean", tf1.zeros_initializer()), ("moving_variance", tf1.ones_initializer())):
                                var = tf1.get_variable(v, [2], initializer=init, trainable=v in ("gamma", "beta"))
                                names.append(var.op.name)
            block += 1
        y = tf.identity(h, name="y")
        saved = os.path.join(out, "saved_model")
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.Builder(saved)
            sig = tf1.saved_model.predict_signature_def(inputs={"x": x}, outputs={"y": y})
            builder.add_meta_graph_and_variables(sess, [tf1.saved_model.tag_constants.SERVING], signature_def_map={"serving_default": sig})
            builder.save()
        n_global = len(tf1.global_variables())
        n_trainable = len(tf1.trainable_variables())
    expected = {
        "tensorflow": tf.__version__,
        "variables": n_global,
        "trainable": n_trainable,
        "first": names[0],
        "last": names[-1],
        "seconds": round(time.time() - t0, 1),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(json.dumps(expected))


if __name__ == "__main__":
    main()
