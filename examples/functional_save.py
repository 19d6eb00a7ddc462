"""A Keras-style script: a functional model of two inputs and two outputs, trained with callbacks, saved whole
(model.save) and loaded again (ad.models.load_model) to continue training where it stopped.

Each sample is a 2-D point and a 3-D context; the model predicts the point's quadrant class (4 classes) and the
distance of the point from the origin."""

import os
import tempfile

import pyautodiff as ad

SAMPLES = 256


def data(seed: int):
    points = ad.initializers.RandomNormal(stddev=1.0, seed=seed)((SAMPLES, 2))
    context = ad.initializers.RandomUniform(-1.0, 1.0, seed=seed + 1)((SAMPLES, 3))
    right, up = ad.cast(ad.greater(points[:, 0], 0.0), "int32"), ad.cast(ad.greater(points[:, 1], 0.0), "int32")
    quadrant = ad.add(right, ad.multiply(up, 2))
    distance = ad.sqrt(ad.reduce_sum(ad.square(points), -1, keepdims=True))
    return {"point": points, "context": context}, {"quadrant": quadrant, "distance": distance}


point = ad.Input((2,), name="point")
context = ad.Input((3,), name="context")
features = ad.layers.Concatenate()([point, context])
hidden = ad.layers.Dense(32, activation="relu", kernel_regularizer=ad.regularizers.L2(1e-4))(features)
hidden = ad.layers.Dense(32, activation="relu")(hidden)
outputs = {"quadrant": ad.layers.Dense(4, name="quadrant")(hidden),
           "distance": ad.layers.Dense(1, name="distance")(hidden)}
model = ad.Model(inputs={"point": point, "context": context}, outputs=outputs, name="two_heads")
model.compile(optimizer=ad.optimizers.Adam(0.01),
              loss={"quadrant": ad.losses.SparseCategoricalCrossentropy(from_logits=True), "distance": "mse"},
              loss_weights={"quadrant": 1.0, "distance": 0.5},
              metrics={"quadrant": ["accuracy"]})
model.summary()

x_train, y_train = data(seed=1)
x_test, y_test = data(seed=7)
folder = tempfile.mkdtemp()
best = os.path.join(folder, "best.safetensors")
callbacks = [ad.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
             ad.callbacks.ModelCheckpoint(best, monitor="val_loss", save_best_only=True, save_weights_only=False)]
model.fit(x_train, y_train, epochs=15, batch_size=32, validation_data=(x_test, y_test), callbacks=callbacks,
          verbose=0, seed=0)
before = model.evaluate(x_test, y_test)

path = os.path.join(folder, "two_heads.safetensors")
model.save(path)
restored = ad.models.load_model(path)  # architecture, weights, optimizer state, losses and metrics
after = restored.evaluate(x_test, y_test)
print("restored model evaluates the same:", after == before)
restored.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0, seed=1)  # training goes on from its state
final = restored.evaluate(x_test, y_test)
print(f"quadrant accuracy: {final['quadrant_accuracy']:.3f}, distance mse: {final['distance_loss']:.3f}")
print("best checkpoint loads:", ad.models.load_model(best).name == "two_heads")
