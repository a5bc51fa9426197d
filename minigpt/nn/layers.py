r"""Basic layers: Linear, Embedding, LayerNorm, RMSNorm, Dropout.

Initialisation follows GPT-2: weights ~ N(0, 0.02²), biases 0, LayerNorm gain 1.
Every layer takes a seeded `numpy.random.Generator` so models are reproducible.

    python -c "import numpy as np; from minigpt.nn import Linear; print(Linear(4, 2, rng=np.random.default_rng(0)).weight.shape)"
"""
import numpy as np

from minigpt import ops
from minigpt.nn.module import Module, Parameter


def _rng(rng):
    return rng if rng is not None else np.random.default_rng(0)


class Linear(Module):
    r"""y = x Wᵀ + b,  W: (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, rng=None, std=0.02, dtype=np.float32):
        self.weight = Parameter((_rng(rng).standard_normal((out_features, in_features)) * std).astype(dtype))
        self.bias = Parameter(np.zeros(out_features, dtype=dtype)) if bias else None

    def forward(self, x):
        return ops.linear(x, self.weight, self.bias)


class Embedding(Module):
    """A (num_embeddings, dim) lookup table; no weight decay by default."""

    def __init__(self, num_embeddings, dim, rng=None, std=0.02, dtype=np.float32):
        self.weight = Parameter((_rng(rng).standard_normal((num_embeddings, dim)) * std).astype(dtype), no_decay=True)

    def forward(self, ids):
        return ops.embedding(self.weight, ids)


class LayerNorm(Module):
    def __init__(self, dim, eps=1e-5, bias=True, dtype=np.float32):
        self.weight = Parameter(np.ones(dim, dtype=dtype))
        self.bias = Parameter(np.zeros(dim, dtype=dtype)) if bias else None
        self.eps = eps

    def forward(self, x):
        return ops.layernorm(x, self.weight, self.bias, eps=self.eps)


class RMSNorm(Module):
    """x / rms(x) ⊙ w over the last axis (LLaMA); a gain, no bias."""

    def __init__(self, dim, eps=1e-5, dtype=np.float32):
        self.weight = Parameter(np.ones(dim, dtype=dtype))
        self.eps = eps

    def forward(self, x):
        return ops.rmsnorm(x, self.weight, eps=self.eps)


class Dropout(Module):
    """Inverted dropout; active only in training mode and when p > 0."""

    def __init__(self, p=0.0, rng=None):
        self.p = p
        self._rng, self._seed = _rng(rng), None

    def reseed(self, seed):
        """Draw the next masks from default_rng(seed); the generator is made when first needed
        (a model reseeds every step, and with p = 0 nothing is ever drawn)."""
        self._rng, self._seed = None, seed

    @property
    def rng(self):
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    def forward(self, x):
        rng = self.rng if self.training and self.p else None  # no mask to draw: no generator to make
        return ops.dropout(x, self.p, rng, training=self.training)
