r"""GPT-1's fine-tuning model: the pretrained transformer plus one linear layer for the labels.

Radford et al. 2018 (§3.2): feed the input tokens x¹..xᵐ through the pretrained model, take the
final transformer activation h_l^m at the last token, and predict the label y with a new layer:

    P(y | x¹..xᵐ) = softmax(h_l^m W_y)

The language-model head (tied to the token embedding) stays, so the auxiliary objective L1 can
be computed on the same forward pass (experiments/classify.py).

    python -c "from minigpt.nn.classifier import SequenceClassifier; from minigpt.nn.gpt import GPTConfig; print(SequenceClassifier(GPTConfig(vocab_size=10), 3))"
"""
import numpy as np

from minigpt.autograd import Tensor
from minigpt.nn.gpt import GPT
from minigpt.nn.layers import Linear
from minigpt.nn.module import Module


class SequenceClassifier(Module):
    """GPT trunk + Linear(C, n_classes) read at the last real token of each right-padded sequence."""

    def __init__(self, cfg, n_classes, seed=0):
        if n_classes < 2:
            raise ValueError(f"n_classes must be ≥ 2, got {n_classes}")
        self.config = cfg
        self.gpt = GPT(cfg, seed=seed)
        self.head = Linear(cfg.n_embd, n_classes, rng=np.random.default_rng([seed, 3]))

    @classmethod
    def from_gpt(cls, gpt, n_classes, seed=0):
        """A classifier whose trunk starts as a copy of a (pretrained) GPT; the head is new."""
        m = cls(gpt.config, n_classes, seed=seed)
        m.gpt.load_state_dict(gpt.state_dict())
        return m

    def reseed(self, seed):
        self.gpt.reseed(seed)

    def forward(self, idx, lengths):
        """(class logits (B, K), LM logits (B, T, V)) for ids (B, T) with real lengths (B,)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        T = np.shape(idx.data if isinstance(idx, Tensor) else idx)[1]
        if lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"lengths must be in 1..{T} (the padded length), got {lengths.min()}..{lengths.max()}")
        h = self.gpt.hidden(idx)  # (B, T, C)
        last = h[np.arange(len(lengths)), lengths - 1]  # (B, C): h_l^m
        return self.head(last), self.gpt.logits(h)  # (B, K), (B, T, V)
