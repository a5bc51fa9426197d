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
from minigpt.nn.module import Module, Parameter


class RewardModel(Module):
    r"""GPT trunk + Linear(C, 1) read at the last real token of each (right-padded) sequence.

    With `lm_feature=True` the reward also counts how likely the response is under the RM's
    own language-model head (the tied unembedding the trunk came with), weighted by a learned α:

        r(x, y) = w · h_last + b  +  α · Σ_t log p(y_t | x, y_<t)

    subtle: a tiny trunk with one scalar read at the last token learns the labeler's taste for
    clean answers fast, but barely learns to *check* an answer (is "dcab" the reversal of
    "abcd"?) in a few minutes of training. Its LM head, inherited from SFT, already knows
    which answers are likely right; the log-likelihood term hands that knowledge to the reward.
    """

    def __init__(self, cfg, seed=0, lm_feature=False):
        self.config = cfg
        self.lm_feature = lm_feature
        self.gpt = GPT(cfg, seed=seed)
        self.head = Linear(cfg.n_embd, 1, rng=np.random.default_rng([seed, 1]))
        if lm_feature:
            self.alpha = Parameter(np.ones(1, dtype=np.float32))

    @classmethod
    def from_gpt(cls, gpt, seed=0, lm_feature=False):
        """A reward model whose trunk starts as a copy of `gpt` (e.g. the SFT model)."""
        rm = cls(gpt.config, seed=seed, lm_feature=lm_feature)
        rm.gpt.load_state_dict(gpt.state_dict())
        return rm

    def forward(self, idx, lengths, starts=None):
        """Rewards (B,) for token ids (B, T) whose real parts have the given lengths (B,).

        `starts` (B,): where each response begins (the prompt length); needed with lm_feature.
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        T = np.shape(idx.data if isinstance(idx, Tensor) else idx)[1]
        if lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"lengths must be in 1..{T} (the padded length), got {lengths.min()}..{lengths.max()}")
        h = self.gpt.hidden(idx)  # (B, T, C)
        B = len(lengths)
        r = self.head(h[np.arange(B), lengths - 1]).reshape(-1)  # (B,)
        if not self.lm_feature:
            return r
        if starts is None:
            raise ValueError("a reward model with lm_feature=True needs `starts`, the prompt length of each row")
        ids = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
        logp = ops.token_logprobs(self.gpt.logits(h)[:, :-1], ids[:, 1:])  # (B, T-1)
        t = np.arange(T - 1)[None, :]
        starts = np.asarray(starts, dtype=np.int64)[:, None]
        mask = ((t >= starts - 1) & (t < lengths[:, None] - 1)).astype(logp.dtype)  # predicts a response token
        return r + self.alpha * (logp * mask).sum(axis=1)


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
        vm.gpt.load_state_dict(rm.gpt.state_dict())
        vm.head.load_state_dict(rm.head.state_dict())
        return vm

    def forward(self, idx):
        h = self.gpt.hidden(idx)  # (B, T, C)
        return ops.reshape(self.head(h), h.shape[:-1])  # (B, T)
