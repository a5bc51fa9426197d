r"""Scalar heads on a GPT trunk: the reward model and the policy's value head.

Both read the final hidden states h = LN(h_n) (B, T, C) of a GPT and map a position to one
number with a Linear(C, 1):

    reward model   r(x, y) = w · h[last real token of prompt x + response y] + b
    value model    V(s_t)  = w · h_t + b          (expected return from token t on, for PPO)

InstructGPT initialised its reward model from the SFT model with the unembedding layer
replaced by a scalar projection (`RewardModel.from_gpt`), and its value function from the
reward model (`ValueModel.from_reward_model`).

    python -c "from minigpt.nn.heads import RewardModel; from minigpt.nn.gpt import GPTConfig; print(RewardModel(GPTConfig(vocab_size=10)).num_parameters())"
"""
import numpy as np

from minigpt import ops
from minigpt.autograd import Tensor
from minigpt.nn.gpt import GPT
from minigpt.nn.layers import Linear
from minigpt.nn.module import Module


class RewardModel(Module):
    """GPT trunk + Linear(C, 1) read at the last real token of each (right-padded) sequence."""

    def __init__(self, cfg, seed=0):
        self.config = cfg
        self.gpt = GPT(cfg, seed=seed)
        self.head = Linear(cfg.n_embd, 1, rng=np.random.default_rng([seed, 1]))

    @classmethod
    def from_gpt(cls, gpt, seed=0):
        """A reward model whose trunk starts as a copy of `gpt` (e.g. the SFT model)."""
        rm = cls(gpt.config, seed=seed)
        rm.gpt.load_state_dict(gpt.state_dict())
        return rm

    def forward(self, idx, lengths):
        """Rewards (B,) for token ids (B, T) whose real parts have the given lengths (B,)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        T = np.shape(idx.data if isinstance(idx, Tensor) else idx)[1]
        if lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"lengths must be in 1..{T} (the padded length), got {lengths.min()}..{lengths.max()}")
        h = self.gpt.hidden(idx)  # (B, T, C)
        last = h[np.arange(len(lengths)), lengths - 1]  # (B, C)
        return self.head(last).reshape(-1)  # (B,)


class ValueModel(Module):
    """V(s_t) at every position: GPT trunk + Linear(C, 1), its own weights (not the policy's).

    InstructGPT initialised the value function from the reward model: `from_reward_model`.
    A separate trunk keeps the value loss from pushing the policy around (with a shared trunk,
    a tiny model's policy drifts just from fitting values).
    """

    def __init__(self, cfg, seed=0):
        self.config = cfg
        self.gpt = GPT(cfg, seed=seed)
        self.head = Linear(cfg.n_embd, 1, rng=np.random.default_rng([seed, 2]))

    @classmethod
    def from_reward_model(cls, rm):
        vm = cls(rm.config)
        vm.load_state_dict(rm.state_dict())
        return vm

    def forward(self, idx):
        h = self.gpt.hidden(idx)  # (B, T, C)
        return ops.reshape(self.head(h), h.shape[:-1])  # (B, T)
