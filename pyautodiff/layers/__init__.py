"""Layers: `ad.layers.Dense(...)`, also `nn.layers` in the seed's builder."""

from .activations import ELU, LeakyReLU, ReLU, Softmax
from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .base import Layer
from .conv import Conv1D, Conv2D, Conv2DTranspose, Conv3D, DepthwiseConv2D, SeparableConv2D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Lambda, Permute, RepeatVector
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .normalization import BatchNormalization, LayerNormalization
from .recurrent import (GRU, LSTM, RNN, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell,
                        TimeDistributed)
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D,
                      GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                      GlobalMaxPooling3D, MaxPooling1D, MaxPooling2D, MaxPooling3D)
from .reshaping import Reshape, UpSampling2D, ZeroPadding2D

__all__ = [
           "Activation",
           "Add",
           "AdditiveAttention",
           "Attention",
           "Average",
           "AveragePooling1D",
           "AveragePooling2D",
           "AveragePooling3D",
           "BatchNormalization",
           "Bidirectional",
           "Concatenate",
           "Conv1D",
           "Conv2D",
           "Conv2DTranspose",
           "Conv3D",
           "Dense",
           "DepthwiseConv2D",
           "Dot",
           "Dropout",
           "ELU",
           "Embedding",
           "Flatten",
           "GRU",
           "GRUCell",
           "GlobalAveragePooling1D",
           "GlobalAveragePooling2D",
           "GlobalAveragePooling3D",
           "GlobalMaxPooling1D",
           "GlobalMaxPooling2D",
           "GlobalMaxPooling3D",
           "LSTM",
           "LSTMCell",
           "Lambda",
           "Layer",
           "LayerNormalization",
           "LeakyReLU",
           "MaxPooling1D",
           "MaxPooling2D",
           "MaxPooling3D",
           "Maximum",
           "Minimum",
           "MultiHeadAttention",
           "Multiply",
           "Permute",
           "RNN",
           "ReLU",
           "RepeatVector",
           "Reshape",
           "SeparableConv2D",
           "SimpleRNN",
           "SimpleRNNCell",
           "Softmax",
           "Subtract",
           "TimeDistributed",
           "UpSampling2D",
           "ZeroPadding2D",
]
