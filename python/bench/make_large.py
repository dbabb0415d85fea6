"""Large real models for `npm run bench` (never committed; written to .bench/ by default).

- resnet152/           tf_keras ResNet152(weights=None) SavedModel (model.save), with keras_metadata.pb
- efficientnetb7/      tf_keras EfficientNetB7(weights=None) SavedModel
- mobilenet/           tf_keras MobileNet(weights=None) SavedModel (the "MobileNet-size" case)
- resnet50_frozen_graph/  a TF1 SavedModel whose ResNet50 variables were folded into constants: a ~100 MB
                          saved_model.pb (weights inside the graph), the "100 MB-class saved_model.pb" case
- tf1_large_graph/     a TF1 training graph with thousands of nodes (60 conv+BN blocks, train op, UPDATE_OPS)

usage: $VENV/bin/python python/bench/make_large.py OUT_DIR [names...]
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402


def keras_app(out, name, ctor, shape):
    tf.keras.utils.set_random_seed(0) if hasattr(tf.keras.utils, "set_random_seed") else None
    model = ctor(weights=None, input_shape=shape)
    model.save(os.path.join(out, name))


def frozen_graph(out):
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(tf.TensorSpec([1, 224, 224, 3], tf.float32))
    frozen = convert_variables_to_constants_v2(fn)
    graph_def = frozen.graph.as_graph_def()
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=g) as sess:
            b = tf.compat.v1.saved_model.Builder(os.path.join(out, "resnet50_frozen_graph"))
            b.add_meta_graph_and_variables(sess, ["serve"])
            b.save()


def tf1_large_graph(out, blocks=60):
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.set_random_seed(0)
        x = tf.compat.v1.placeholder(tf.float32, [None, 16, 16, 8], name="x")
        is_training = tf.compat.v1.placeholder_with_default(True, [], name="is_training")
        h = x
        for i in range(blocks):
            with tf.compat.v1.variable_scope("block%03d" % i):
                h = tf.compat.v1.layers.conv2d(h, 8, 3, padding="same", use_bias=False)
                h = tf.compat.v1.layers.batch_normalization(h, training=is_training)
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.square(h))
        tvars = [v for v in tf.compat.v1.trainable_variables() if not v.op.name.startswith("block00")]
        with tf.control_dependencies(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):
            train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=tvars)
        tf.compat.v1.add_to_collection("train_op", train_op)
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            b = tf.compat.v1.saved_model.Builder(os.path.join(out, "tf1_large_graph"))
            b.add_meta_graph_and_variables(sess, ["serve", "train"])
            b.save()


def main(out, names):
    os.makedirs(out, exist_ok=True)
    jobs = {
        "mobilenet": lambda: keras_app(out, "mobilenet", keras.applications.MobileNet, (224, 224, 3)),
        "resnet152": lambda: keras_app(out, "resnet152", keras.applications.ResNet152, (224, 224, 3)),
        "efficientnetb7": lambda: keras_app(out, "efficientnetb7", keras.applications.EfficientNetB7, (600, 600, 3)),
        "resnet50_frozen_graph": lambda: frozen_graph(out),
        "tf1_large_graph": lambda: tf1_large_graph(out),
    }
    for name in names or list(jobs):
        if os.path.exists(os.path.join(out, name)):
            print("exists:", name)
            continue
        print("making", name, flush=True)
        jobs[name]()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
