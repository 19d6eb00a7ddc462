"""Layers: `ad.layers.Dense(...)`, also `nn.layers` in the seed's builder."""

from .base import Layer
from .core import Activation, Dense, Dropout, Embedding, Flatten
from .normalization import BatchNormalization, LayerNormalization

__all__ = [
           "Activation",
           "BatchNormalization",
           "Dense",
           "Dropout",
           "Embedding",
           "Flatten",
           "Layer",
           "LayerNormalization",
]
