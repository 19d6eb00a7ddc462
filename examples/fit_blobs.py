"""compile/fit on two generated Gaussian blobs; plots the loss curve when matplotlib is installed."""

import pyautodiff as ad

SAMPLES = 200  # per class


def blobs(seed: int):
    """Two classes of 2-D points around (-1.5, -1.5) and (1.5, 1.5), and their 0/1 labels."""
    noise = ad.initializers.RandomNormal(stddev=1.0, seed=seed)((2 * SAMPLES, 2))
    centers = ad.concat([ad.full((SAMPLES, 2), -1.5), ad.full((SAMPLES, 2), 1.5)], 0)
    labels = ad.concat([ad.zeros((SAMPLES,), "int32"), ad.ones((SAMPLES,), "int32")], 0)
    return noise + centers, labels


x_train, y_train = blobs(seed=1)
x_test, y_test = blobs(seed=2)

model = ad.Sequential([
    ad.layers.Dense(16, activation="relu", input_shape=(2,)),
    ad.layers.Dense(2),
])
model.compile(optimizer=ad.optimizers.Adam(0.01),
              loss=ad.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs=10, batch_size=32, validation_data=(x_test, y_test), seed=0)
print("test:", {k: round(v, 4) for k, v in model.evaluate(x_test, y_test).items()})

try:
    import matplotlib
except ImportError:
    matplotlib = None
if matplotlib is not None and __name__ == "__main__":
    import matplotlib.pyplot as plt
    plt.plot(history.history["loss"], label="loss")
    plt.plot(history.history["val_loss"], label="val_loss")
    plt.title("fit on two blobs")
    plt.xlabel("epoch")
    plt.legend()
    plt.show()
