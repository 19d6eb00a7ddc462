"""Learning to add with a recurrent network (the seed system's "addition" sample, after Keras' classic example):
"123+45" in, "168" out, as sequence-to-sequence over characters. An LSTM encodes the question (read reversed,
which shortens the paths from digits to the digits they decide), RepeatVector hands its summary to every answer
position, a second LSTM decodes, and a Dense per step (TimeDistributed) picks each answer character. Seeded
throughout; the questions are made here."""

import random

import pyautodiff as ad

SEED = 0
DIGITS = 3
TRAIN, TEST = 20000, 2000
EPOCHS = 12
CHARS = " 0123456789+"  # " " pads (index 0)
QUESTION, ANSWER = 2 * DIGITS + 1, DIGITS + 1  # "999+999", "1998"

rng = random.Random(SEED)


def encode(text: str, width: int) -> list:
    return [CHARS.index(ch) for ch in text.ljust(width)]


def sample() -> tuple:
    a, b = (rng.randrange(10 ** rng.randint(1, DIGITS)) for _ in range(2))
    return f"{a}+{b}", str(a + b)


seen, pairs = set(), []
while len(pairs) < TRAIN + TEST:  # distinct questions: the held-out sums were never trained on
    question, answer = sample()
    if question not in seen:
        seen.add(question)
        pairs.append((question, answer))
x = ad.array([encode(q, QUESTION)[::-1] for q, _ in pairs], "int32")
y = ad.array([encode(a, ANSWER) for _, a in pairs], "int32")
x_train, y_train, x_test, y_test = x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]


def glorot(layer: int):
    return ad.initializers.GlorotUniform(seed=SEED + layer)


model = ad.Sequential([
    ad.layers.Embedding(len(CHARS), 16, input_shape=(QUESTION,)),
    ad.layers.LSTM(128, kernel_initializer=glorot(1)),
    ad.layers.RepeatVector(ANSWER),
    ad.layers.LSTM(128, return_sequences=True, kernel_initializer=glorot(2)),
    ad.layers.TimeDistributed(ad.layers.Dense(len(CHARS), kernel_initializer=glorot(3))),
])
# the rate decays to 5% by the end: the last epochs settle the answers' last digits
STEPS = EPOCHS * -(-TRAIN // 64)
model.compile(optimizer=ad.optimizers.Adam(ad.optimizers.CosineDecay(0.005, STEPS, alpha=0.05)),
              loss=ad.losses.SparseCategoricalCrossentropy(from_logits=True))
if __name__ == "__main__":
    model.summary()
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, seed=SEED, verbose=0)
predicted = ad.argmax(model.predict(x_test, batch_size=500), axis=-1)
exact = ad.reduce_mean(ad.cast(ad.reduce_min(ad.cast(ad.equal(predicted, y_test), "float32"), axis=1), "float32"))
print(f"exact-match accuracy: {float(exact):.4f} on {TEST} held-out sums")
