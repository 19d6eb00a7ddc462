"""A transformer block that counts: sequences of tokens 1-4 (0 pads the end), labelled by whether token 1 occurs
more often than token 2. Counting over a whole sequence is what self-attention does well and a bag of local
features does not. Embedding -> MultiHeadAttention (padding masked out of queries and values) -> residual
LayerNormalization -> position-wise feed-forward -> mean over the steps -> Dense. Seeded; the data is made here."""

import random

import pyautodiff as ad

SEED, LENGTH = 0, 12
rng = random.Random(SEED)


def counting(n: int) -> tuple:
    xs, ys = [], []
    while len(xs) < n:
        size = rng.randint(4, LENGTH)
        seq = [rng.randint(1, 4) for _ in range(size)]
        if seq.count(1) != seq.count(2):  # no ties: every label is decided
            xs.append(seq + [0] * (LENGTH - size))
            ys.append(int(seq.count(1) > seq.count(2)))
    return ad.array(xs, "int32"), ad.array(ys, "int32")


class Counter(ad.Model):
    def __init__(self):
        super().__init__()
        self.embed = ad.layers.Embedding(5, 32)
        self.attention = ad.layers.MultiHeadAttention(num_heads=4, key_dim=8, dropout=0.1, seed=SEED)
        self.norm1, self.norm2 = ad.layers.LayerNormalization(), ad.layers.LayerNormalization()
        self.ffn = ad.layers.Dense(32, activation="gelu")
        self.head = ad.layers.Dense(2)

    def call(self, tokens, training=False):
        mask = ad.not_equal(tokens, 0)  # padding attends to nothing and is attended by nothing
        x = self.embed(tokens)
        x = self.norm1(x + self.attention(x, x, query_mask=mask, value_mask=mask, training=training))
        x = self.norm2(x + self.ffn(x))
        return self.head(ad.reduce_mean(x, axis=1))


x_train, y_train = counting(2000)
x_test, y_test = counting(500)
model = Counter()
model.compile(ad.optimizers.Adam(0.005), ad.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=8, batch_size=32, seed=SEED, verbose=0)
print(f"held-out accuracy: {model.evaluate(x_test, y_test)['accuracy']:.3f} on {len(y_test.tolist())} sequences")
