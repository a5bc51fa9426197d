"""`Module`: a container of Parameters and sub-Modules, found by walking attributes.

There is no registration API: assign a Parameter, a Module, or a list of Modules
to an attribute and it is part of the model. Names follow the attribute path,
e.g. `blocks.0.attn.qkv.weight`, and are the keys of `state_dict()`.

    python -c "from minigpt.nn import Linear; print([n for n, _ in Linear(3, 2).named_parameters()])"
"""
import numpy as np

from minigpt.autograd import Tensor
from minigpt.backend import to_device, to_numpy, xp


class Parameter(Tensor):
    """A Tensor that is a trainable weight (requires_grad=True).

    `no_decay=True` asks AdamW to skip weight decay for it (embeddings).
    """
    __slots__ = ("no_decay",)

    def __init__(self, data, no_decay=False):
        super().__init__(xp.asarray(data), requires_grad=True)
        self.no_decay = no_decay


class Module:
    training = True

    # --- discovery
    def named_children(self):
        for name, v in vars(self).items():
            if isinstance(v, Module):
                yield name, v
            elif isinstance(v, (list, tuple)):
                for i, m in enumerate(v):
                    if isinstance(m, Module):
                        yield f"{name}.{i}", m

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs, each shared Parameter listed once (first name wins)."""
        seen = set()
        for name, p in self._walk_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _walk_parameters(self, prefix):
        for name, v in vars(self).items():
            if isinstance(v, Parameter):
                yield prefix + name, v
        for name, child in self.named_children():
            yield from child._walk_parameters(f"{prefix}{name}.")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def modules(self):
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # --- modes
    def train(self, mode=True):
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def to(self, dev: str):
        """Move every parameter to 'cpu' or 'cuda' in place."""
        for p in self.parameters():
            p.data = to_device(p.data, dev)
            p.grad = None if p.grad is None else to_device(p.grad, dev)
        return self

    # --- (de)serialisation
    def state_dict(self):
        """{name: NumPy array (a host copy)}."""
        return {n: to_numpy(p.data).copy() for n, p in self.named_parameters()}

    def load_state_dict(self, state, strict=True):
        """Copy arrays into the parameters, checking names, shapes and dtypes.

        strict=True: every parameter must be present and no extra key allowed.
        Returns (missing, unexpected) key lists.
        """
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing[:8]}{'...' if len(missing) > 8 else ''}, "
                           f"unexpected keys {unexpected[:8]}{'...' if len(unexpected) > 8 else ''}")
        for k, p in params.items():
            if k not in state:
                continue
            a = state[k]
            if tuple(a.shape) != p.shape:
                raise ValueError(f"load_state_dict: {k} has shape {tuple(a.shape)} in the checkpoint "
                                 f"but {p.shape} in the model")
            if np.dtype(a.dtype).kind != p.dtype.kind:
                raise TypeError(f"load_state_dict: {k} has dtype {a.dtype} in the checkpoint but {p.dtype} in the model")
            p.data = to_device(np.asarray(a, dtype=p.dtype), p.device)
        return missing, unexpected

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")
