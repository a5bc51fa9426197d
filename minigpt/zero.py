r"""ZeRO stage 1 (Rajbhandari et al., 2020): AdamW whose state is split across the data-parallel ranks.

Plain data parallelism keeps a full copy of everything on every rank. With Ψ parameters in
float32 that is, per rank,

    weights 4Ψ + gradients 4Ψ + AdamW moments m, v 8Ψ  = 16Ψ bytes

ZeRO-1 keeps the weights and gradients whole but gives each of the N ranks the moments of only
1/N of the parameters: 8Ψ + 8Ψ/N bytes per rank. Each rank updates its shard, then the ranks
all-gather the updated weights so everyone holds the whole model again. The update of an element
is the same arithmetic as in `optim.AdamW`, so the weights equal the unsharded run's.

The shard is a range of the parameters laid end to end as one flat vector of Ψ numbers:
rank r owns [r·⌈Ψ/N⌉, (r+1)·⌈Ψ/N⌉). `state_dict()` gathers the moments back into AdamW's own
layout, so a checkpoint written with N ranks resumes with any number of ranks, sharded or not.

    mpiexec -n 2 python -m minigpt.zero      # memory per rank of a small GPT, sharded vs not
"""
import math

import numpy as np

from minigpt.backend import get_xp
from minigpt.dist import get_comm
from minigpt.optim import AdamW


class _Slice:
    """The part of a parameter a rank updates: flat views of its weights and gradient (what AdamW reads)."""
    requires_grad = True
    no_decay = False

    def __init__(self, data, grad):
        self.data, self.grad = data, grad
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim


class ZeroAdamW:
    """AdamW with its moments sharded over the ranks of `comm` (ZeRO-1); same interface as AdamW.

    Call it after `dist.allreduce_grads` (every rank holds the summed gradients). `step()`,
    `state_dict()` and `load_state_dict()` are collective: every rank must call them.
    """

    def __init__(self, params, comm=None, **adamw_kwargs):
        self.comm = comm or get_comm()
        full = AdamW(params, **adamw_kwargs)  # no state is allocated yet: used for its params and decay rule
        self.params, self.decay, self.kwargs = full.params, full.decay, adamw_kwargs
        self.numel = sum(p.size for p in self.params)
        self.chunk = math.ceil(self.numel / self.comm.size)  # elements per rank (the last may own fewer)
        lo, hi = self.comm.rank * self.chunk, min(self.numel, (self.comm.rank + 1) * self.chunk)
        self.pieces = []  # (parameter index, start, stop) in the parameter's flattened order
        offset = 0
        for i, p in enumerate(self.params):
            s, e = max(lo, offset), min(hi, offset + p.size)
            if s < e:
                self.pieces.append((i, s - offset, e - offset))
            offset += p.size
        self.local = None  # the AdamW over this rank's slices (made at the first step)
        self.lr = full.lr
        self.t = 0

    # --- the step
    def _slices(self):
        out = []
        for i, s, e in self.pieces:
            p = self.params[i]
            if not p.data.flags.c_contiguous:
                raise ValueError("ZeroAdamW needs C-contiguous parameters (it updates flat views of them)")
            grad = None if p.grad is None else p.grad.reshape(-1)[s:e]
            out.append(_Slice(p.data.reshape(-1)[s:e], grad))
        return out

    def step(self):
        self.t += 1
        slices = self._slices()
        if slices:
            if self.local is None:
                self.local = AdamW(slices, **self.kwargs)
                self.local.decay = [self.decay[i] for i, _, _ in self.pieces]  # the whole parameter's rule
            self.local.params = slices
            self.local.lr, self.local.t = self.lr, self.t - 1  # AdamW.step() counts t itself
            self.local.step()
        self._gather_weights(slices)

    def _gather_weights(self, slices):
        """All-gather: every rank sends its updated shard and receives the others'."""
        if self.comm.size == 1:
            return
        ax = get_xp(self.params[0].data)
        mine = ax.zeros(self.chunk, dtype=self.params[0].dtype)
        n = 0
        for sl in slices:
            mine[n:n + sl.data.size] = sl.data
            n += sl.data.size
        flat = self.comm.allgather(mine).reshape(-1)[:self.numel]  # (N·chunk,) → the Ψ weights in order
        offset = 0
        for p in self.params:
            p.data.reshape(-1)[:] = flat[offset:offset + p.size]
            offset += p.size

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    # --- memory
    def memory_bytes(self):
        """Bytes per rank: weights, gradients, AdamW moments held here, and the moments unsharded."""
        itemsize = self.params[0].dtype.itemsize
        mine = sum(e - s for _, s, e in self.pieces)
        return {"weights": self.numel * itemsize, "grads": self.numel * itemsize,
                "adam_moments": 2 * mine * itemsize, "adam_moments_unsharded": 2 * self.numel * itemsize}

    # --- checkpoints: the full AdamW layout, gathered (collective)
    def state_dict(self):
        """{"t", "m.i", "v.i"} exactly as AdamW.state_dict() gives (numpy/cupy arrays of whole parameters)."""
        out = {"t": self.t}
        ax = get_xp(self.params[0].data)
        has = np.zeros(len(self.params), dtype=np.int32)
        bufs = []
        for k, key in enumerate("mv"):
            mine = ax.zeros(self.chunk, dtype=self.params[0].dtype)
            n = 0
            for j, (i, s, e) in enumerate(self.pieces):
                moments = None if self.local is None else (self.local.m, self.local.v)[k][j]
                if moments is not None:
                    mine[n:n + e - s] = moments
                    has[i] = 1
                n += e - s
            bufs.append(self.comm.allgather(mine).reshape(-1)[:self.numel])
        has = self.comm.allreduce(has)
        offset = 0
        for i, p in enumerate(self.params):
            if has[i]:
                out[f"m.{i}"] = bufs[0][offset:offset + p.size].reshape(p.shape).copy()
                out[f"v.{i}"] = bufs[1][offset:offset + p.size].reshape(p.shape).copy()
            offset += p.size
        return out

    def load_state_dict(self, state):
        """Take this rank's shard of an AdamW (or ZeroAdamW, any N) state dict."""
        self.t = int(state["t"])
        slices = self._slices()
        if not slices:
            return
        self.local = AdamW(slices, **self.kwargs)
        self.local.decay = [self.decay[i] for i, _, _ in self.pieces]
        for j, (i, s, e) in enumerate(self.pieces):
            if f"m.{i}" in state:
                p = self.params[i]
                for key, dest in (("m", self.local.m), ("v", self.local.v)):
                    full = state[f"{key}.{i}"]
                    if tuple(full.shape) != p.shape:
                        raise ValueError(f"optimizer state {key}.{i} has shape {tuple(full.shape)}, "
                                         f"parameter has {p.shape}")
                    dest[j] = get_xp(p.data).asarray(full, dtype=p.dtype).reshape(-1)[s:e].copy()


if __name__ == "__main__":
    from minigpt.nn.gpt import GPT, GPTConfig
    model = GPT(GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=2, n_embd=64), seed=0)
    opt = ZeroAdamW(model.parameters())
    mem = {k: round(v / 2**20, 3) for k, v in opt.memory_bytes().items()}
    print(f"rank {opt.comm.rank}/{opt.comm.size}: {opt.numel} parameters; MiB per rank {mem}")
