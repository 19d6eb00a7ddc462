"""The seed's first example: gradients of c = a * b."""
import pyautodiff as ad

nn = ad.NeuralNetworks()
g = nn.gradient()

a = g.Variable(2.0)
b = g.Variable(3.0)
with g.GradientTape() as tape:
    c = g.mul(a, b)
grads = tape.gradient(c, [a, b])
print("c =", c, "da =", grads[0], "db =", grads[1])
