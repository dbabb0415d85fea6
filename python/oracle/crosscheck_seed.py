"""Hand cross-check of THE SEED CASE (tf1_seed, exclude A,B,C, is_training=True, all UPDATE_OPS).

Block A is frozen, so its conv output on the fixed batch is identical in both steps. The moving
statistics after 2 steps must therefore follow the closed form
    mm_2 = m^2 * mm_0 + (1 - m^2) * batch_mean
    mv_2 = m^2 * mv_0 + (1 - m^2) * batch_var_unbiased      (fused kernel stores n/(n-1) * biased var)
with momentum m = 0.99, computed here with numpy from the conv output, and compared with what
TensorFlow actually stored. Also checks gamma/beta of A are bit-identical.
Run with the tf215 venv:  python python/oracle/crosscheck_seed.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import fi_common as C  # noqa: E402
import oracle  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main():
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
    sm = os.path.join(C.GEN, "tf1_seed", "saved_model")
    exp = C.read_json(os.path.join(C.GEN, "tf1_seed", "expected.json"))
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        v1.saved_model.loader.load(sess, ["train"], sm)
        gv = {v.op.name: v for v in v1.global_variables()}
        loss = g.get_tensor_by_name("loss:0")
        var_list = [v for v in v1.trainable_variables()
                    if v.op.name in set(C.filter_names([v.op.name], None, ["A", "B", "C"]))]
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            step = v1.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=var_list)
        xb, yb = oracle.data([16, 16, 3], [4])
        feed = {"x:0": xb, "y:0": yb, "is_training:0": True}
        a = "A/batch_normalization/"
        conv = sess.run(g.get_tensor_by_name(exp["batchNorms"][0]["inputTensor"]), feed)
        mm0, mv0, g0, b0 = sess.run([gv[a + "moving_mean"], gv[a + "moving_variance"], gv[a + "gamma"], gv[a + "beta"]])
        for _ in range(2):
            sess.run(step, feed)
        mm2, mv2, g2, b2 = sess.run([gv[a + "moving_mean"], gv[a + "moving_variance"], gv[a + "gamma"], gv[a + "beta"]])
    x = conv.astype("float64").reshape(-1, conv.shape[-1])
    n = x.shape[0]
    bm, bv = x.mean(0), x.var(0)
    m2 = 0.99 ** 2
    want_mm = m2 * mm0 + (1 - m2) * bm
    want_mv_unb = m2 * mv0 + (1 - m2) * bv * n / (n - 1)
    want_mv_b = m2 * mv0 + (1 - m2) * bv
    print("A/gamma unchanged:", np.array_equal(g0, g2), " A/beta unchanged:", np.array_equal(b0, b2))
    print("moving_mean: max|TF - closed form| = %.3g (total change %.3g)" % (np.max(np.abs(mm2 - want_mm)), np.max(np.abs(mm2 - mm0))))
    print("moving_variance: max|TF - unbiased closed form| = %.3g, vs biased form = %.3g (n=%d)"
          % (np.max(np.abs(mv2 - want_mv_unb)), np.max(np.abs(mv2 - want_mv_b)), n))


if __name__ == "__main__":
    main()
