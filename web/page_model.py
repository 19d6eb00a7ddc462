"""The page's own model and data: `page.model` is the network drawn above, `page.data` its points.

Inspect them, or train further: the decision boundary and the figures show the result when this finishes.
"""

import pyautodiff as ad

model, data = page.model, page.data  # noqa: F821 - the page provides `page`
for var in model.trainable_variables:
    print(f"{var.name:28} {var.shape}")
print(f"{data.x_train.shape[0]} training points, {0 if data.x_test is None else data.x_test.shape[0]} test points")

lossfunc = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = ad.optimizers.Adam(learning_rate=0.01)
dataset = ad.data.NDArrayDataset(data.x_train, tests=data.y_train, batch_size=10)
for epoch in range(20):
    for inputs, trues in dataset:
        with ad.GradientTape() as tape:
            loss = lossfunc(trues, model(inputs, training=True))
        params = model.trainable_variables
        optimizer.update(params, tape.gradient(loss, params))
    print(f"epoch {epoch + 1:2}: loss {float(lossfunc(data.y_train, model(data.x_train))):.4f}")

predicted = ad.argmax(model(data.x_train), axis=-1).tolist()
correct = sum(p == t for p, t in zip(predicted, data.y_train.tolist()))
print(f"trained 20 more epochs: {correct} of {len(predicted)} training points classified correctly")
