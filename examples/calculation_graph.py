import pyautodiff as ad
nn = ad.NeuralNetworks()
g = nn.gradient()

func = g.Function(lambda a, b, c: g.add(g.mul(a, b), c))

a = g.Variable(2.0)
b = g.Variable(3.0)
c = g.Variable(4.0)
with g.GradientTape() as tape:
    y = func(a, b, c)
    z = g.square(y)
grads = tape.gradient(z, [a, b])
print("z =", z, "da =", grads[0], "db =", grads[1])
# z = 100, da = 60, db = 40   (the original page prints z=6, a typo: (2*3+4)^2 = 100)
