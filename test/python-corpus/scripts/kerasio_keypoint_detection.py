# Source: github.com/keras-team/keras-io, examples/vision/keypoint_detection.py (commit 05938ba642c88c7dff63b201dad5e46b8c663ac1),
# excerpt: the Keras imports, hyperparameters, get_model() and the compile/fit/predict calls (data pipeline,
# augmentation and plots left out). License: Apache License 2.0 (keras-io). Stored as test data.
from tensorflow.keras import layers
from tensorflow import keras
import tensorflow as tf

IMG_SIZE = 224
BATCH_SIZE = 64
EPOCHS = 5
NUM_KEYPOINTS = 24 * 2  # 24 pairs each having x and y coordinates


def get_model():
    # Load the pre-trained weights of MobileNetV2 and freeze the weights
    backbone = keras.applications.MobileNetV2(
        weights="imagenet", include_top=False, input_shape=(IMG_SIZE, IMG_SIZE, 3)
    )
    backbone.trainable = False

    inputs = layers.Input((IMG_SIZE, IMG_SIZE, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(inputs)
    x = backbone(x)
    x = layers.Dropout(0.3)(x)
    x = layers.SeparableConv2D(
        NUM_KEYPOINTS, kernel_size=5, strides=1, activation="relu"
    )(x)
    outputs = layers.SeparableConv2D(
        NUM_KEYPOINTS, kernel_size=3, strides=1, activation="sigmoid"
    )(x)

    return keras.Model(inputs, outputs, name="keypoint_detector")


get_model().summary()

model = get_model()
model.compile(loss="mse", optimizer=keras.optimizers.Adam(1e-4))
model.fit(train_dataset, validation_data=validation_dataset, epochs=5)

sample_val_images, sample_val_keypoints = next(iter(validation_dataset))
predictions = model.predict(sample_val_images).reshape(-1, 24, 2) * IMG_SIZE
