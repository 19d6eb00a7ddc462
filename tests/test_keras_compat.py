"""Spellings and call forms that Keras and Rindow NeuralNetworks users write (issue 17)."""

import pytest

import pyautodiff as ad


def test_rindow_spellings_of_the_cross_entropies():
    assert ad.losses.SparseCategoricalCrossEntropy is ad.losses.SparseCategoricalCrossentropy
    assert ad.losses.CategoricalCrossEntropy is ad.losses.CategoricalCrossentropy
    assert ad.losses.BinaryCrossEntropy is ad.losses.BinaryCrossentropy
    nn = ad.NeuralNetworks()
    loss = nn.losses.SparseCategoricalCrossEntropy(from_logits=True)
    value = loss(ad.array([0, 1]), ad.array([[2.0, 0.0], [0.0, 2.0]]))
    assert value.item() == pytest.approx(0.126928, rel=1e-5)


def test_the_seed_call_form_passes_extra_arguments_to_call():
    class WithTargets(ad.Model):
        def __init__(self):
            super().__init__()
            self.dense = ad.layers.Dense(1, input_shape=(2,))

        def call(self, inputs, training=False, trues=None):
            y = self.dense(inputs)
            return y if trues is None else y - trues

    model = WithTargets()
    x = ad.array([[1.0, 2.0]])
    plain = model(x, True)
    shifted = model(x, True, ad.array([[1.0]]))
    assert shifted.tolist()[0][0] == pytest.approx(plain.tolist()[0][0] - 1.0)


@pytest.mark.parametrize("name", ["w.h5", "model.keras", "W.HDF5", "w.pt"])
def test_weights_of_another_format_are_refused_by_name(tmp_path, name):
    model = ad.Sequential([ad.layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="safetensors"):
        model.save_weights(tmp_path / name)
    assert not (tmp_path / name).exists()
    with pytest.raises(ValueError, match="safetensors"):
        model.load_weights(tmp_path / name)
