"""A PyTorch twin of minigpt's GPT, for cross-checks and benchmarks only (needs the `torch` extra).

Written independently with torch's own ops (F.scaled_dot_product_attention, F.layer_norm, ...)
and the same parameter names as `minigpt.nn.GPT`, so `load_minigpt_state(state_dict)` gives
both models identical weights. The LLaMA options follow the config too: nn.RMSNorm, a SwiGLU MLP
from F.silu, and RoPE written as complex multiplication (each pair x₁ + i·x₂ times e^{i·t·θ}).

    python -c "from minigpt.torch_ref import TorchGPT; from minigpt.nn import GPTConfig; print(TorchGPT(GPTConfig(vocab_size=65)))"
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from minigpt.nn.gpt import mlp_hidden


def _norm(cfg):
    if getattr(cfg, "norm", "layernorm") == "rmsnorm":
        return nn.RMSNorm(cfg.n_embd, eps=1e-5)
    return nn.LayerNorm(cfg.n_embd, bias=cfg.bias)


def complex_rope(x, base):
    """Rotary embedding of x (B, nh, T, hs) at positions 0..T-1: pair (x[i], x[i + hs/2]) as a complex number."""
    T, hs = x.shape[-2], x.shape[-1]
    theta = base ** (-torch.arange(0, hs, 2, dtype=torch.float64) / hs)
    angle = torch.outer(torch.arange(T, dtype=torch.float64), theta)
    turn = torch.polar(torch.ones_like(angle), angle).to(torch.complex64)  # e^{i t θ}
    z = torch.complex(x[..., :hs // 2], x[..., hs // 2:]) * turn
    return torch.cat([z.real, z.imag], dim=-1)


class TorchBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg.n_embd
        self.n_head = cfg.n_head
        self.cfg = cfg
        self.post_ln = getattr(cfg, "ln_position", "pre") == "post"
        self.causal = getattr(cfg, "causal", True)
        self.ln1 = _norm(cfg)
        self.ln2 = _norm(cfg)
        self.qkv = nn.Linear(C, 3 * C, bias=cfg.bias)
        self.proj = nn.Linear(C, C, bias=cfg.bias)
        if getattr(cfg, "mlp", "gelu") == "swiglu":
            H = mlp_hidden(cfg)
            self.gate, self.up = nn.Linear(C, H, bias=cfg.bias), nn.Linear(C, H, bias=cfg.bias)
            self.mlp_proj = nn.Linear(H, C, bias=cfg.bias)
        else:
            self.fc = nn.Linear(C, 4 * C, bias=cfg.bias)
            self.mlp_proj = nn.Linear(4 * C, C, bias=cfg.bias)

    def attend(self, h):
        B, T, C = h.shape
        q, k, v = self.qkv(h).split(C, dim=-1)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if getattr(self.cfg, "pos", "learned") == "rope":
            q, k = complex_rope(q, self.cfg.rope_base), complex_rope(k, self.cfg.rope_base)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)

    def mlp(self, h):
        if hasattr(self, "gate"):
            return self.mlp_proj(F.silu(self.gate(h)) * self.up(h))
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
        if getattr(cfg, "pos", "learned") == "learned":
            self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(TorchBlock(cfg) for _ in range(cfg.n_layer))
        self.ln_f = _norm(cfg)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.wte(idx)
        if hasattr(self, "wpe"):
            x = x + self.wpe(torch.arange(T, device=idx.device))
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.T
        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    # names in minigpt → names here
    _RENAME = {"attn.qkv": "qkv", "attn.proj": "proj", "mlp.fc": "fc", "mlp.proj": "mlp_proj", "mlp.gate": "gate",
               "mlp.up": "up"}

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


def forward_backward_both(model, seed=0, shape=(3, 8)):
    """minigpt `model` and its TorchGPT twin (same weights), forward and backward on one random batch.

    Returns (logits, loss, torch logits, torch loss, twin); the gradients are in each model
    (`twin.minigpt_grads()` names torch's like minigpt's). ids use `seed`, targets `seed + 1`.
    """
    V = model.config.vocab_size
    twin = TorchGPT(model.config)
    twin.load_minigpt_state(model.state_dict())
    ids = np.random.default_rng(seed).integers(0, V, shape)
    tgt = np.random.default_rng(seed + 1).integers(0, V, shape)
    t_logits, t_loss = twin(torch.tensor(ids), torch.tensor(tgt))
    t_loss.backward()
    logits, loss = model(ids, tgt)
    loss.backward()
    return logits, loss, t_logits, t_loss, twin
