"""A PyTorch twin of minigpt's GPT, for cross-checks and benchmarks only (needs the `torch` extra).

Written independently with torch's own ops (F.scaled_dot_product_attention, F.layer_norm, ...)
and the same parameter names as `minigpt.nn.GPT`, so `load_minigpt_state(state_dict)` gives
both models identical weights.

    python -c "from minigpt.torch_ref import TorchGPT; from minigpt.nn import GPTConfig; print(TorchGPT(GPTConfig(vocab_size=65)))"
"""
import torch
import torch.nn.functional as F
from torch import nn


class TorchBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg.n_embd
        self.n_head = cfg.n_head
        self.post_ln = getattr(cfg, "ln_position", "pre") == "post"
        self.ln1 = nn.LayerNorm(C)
        self.ln2 = nn.LayerNorm(C)
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)

    def attend(self, h):
        B, T, C = h.shape
        q, k, v = self.qkv(h).split(C, dim=-1)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)

    def mlp(self, h):
        return self.mlp_proj(F.gelu(self.fc(h), approximate="tanh"))

    def forward(self, x):
        if self.post_ln:  # LN(x + f(x)): the original Transformer / GPT-1 placement
            x = self.ln1(x + self.attend(x))
            return self.ln2(x + self.mlp(x))
        x = x + self.attend(self.ln1(x))  # x + f(LN(x)): GPT-2
        return x + self.mlp(self.ln2(x))


class TorchGPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(TorchBlock(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.T
        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    # names in minigpt → names here
    _RENAME = {"attn.qkv": "qkv", "attn.proj": "proj", "mlp.fc": "fc", "mlp.proj": "mlp_proj"}

    def torch_name(self, name):
        """minigpt parameter name → this model's name."""
        for a, b in self._RENAME.items():
            name = name.replace(f".{a}.", f".{b}.")
        return name

    def load_minigpt_state(self, state):
        """Copy a minigpt `state_dict()` (NumPy arrays) into this model."""
        mine = dict(self.named_parameters())
        with torch.no_grad():
            for k, v in state.items():
                mine[self.torch_name(k)].copy_(torch.from_numpy(v))

    def minigpt_grads(self):
        """Gradients keyed by minigpt parameter names."""
        inv = {}
        for name, p in self.named_parameters():
            ours = name
            for a, b in self._RENAME.items():
                ours = ours.replace(f".{b}.", f".{a}.")
            inv[ours] = p.grad.numpy()
        return inv
