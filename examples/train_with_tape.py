"""The seed's second example: a subclassed model trained with a GradientTape.

Prints the loss history and the final predictions; plots the history when matplotlib is installed.
"""

import pyautodiff as ad

nn = ad.NeuralNetworks()
K = nn.backend()
g = nn.gradient()

class TestModel(ad.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.layers.Dense(128, input_shape=(2,), activation="sigmoid")
        self.dense2 = nn.layers.Dense(2)

    def call(self, inputs, training=False):
        x = self.dense1(inputs, training=training)
        return self.dense2(x, training=training)

model = TestModel()
lossfunc = nn.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = nn.optimizers.Adam()
train_inputs = ad.array([[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]], dtype="float32")
train_tests = ad.array([0, 0, 0, 1, 1, 1])
dataset = nn.data.NDArrayDataset(train_inputs, tests=train_tests, batch_size=64, shuffle=False)

history = []
for epoch in range(100):
    total_loss = 0.0
    for inputs, trues in dataset:
        with g.GradientTape() as tape:
            predicts = model(inputs, training=True)
            loss = lossfunc(trues, predicts)
        params = model.trainable_variables
        gradients = tape.gradient(loss, params)
        optimizer.update(params, gradients)
        total_loss += K.scalar(loss)
    history.append(total_loss)

print("loss history:", " ".join(f"{v:.4f}" for v in history))
predicted = g.argmax(model(train_inputs), axis=-1)
print("predictions:", predicted.tolist(), "labels:", train_tests.tolist())
correct = int(K.scalar(g.reduce_sum(g.cast(g.equal(predicted, train_tests), "float32"))))
print(f"classified {correct} of {len(train_tests)} points correctly; loss fell from {history[0]:.4f} "
      f"to {history[-1]:.4f}")

try:
    import matplotlib
except ImportError:
    matplotlib = None
if matplotlib is not None and __name__ == "__main__":
    import matplotlib.pyplot as plt
    plt.plot(history)
    plt.title("dynamic mode gradient")
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.show()
