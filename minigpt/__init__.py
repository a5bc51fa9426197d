"""minigpt: a GPT-style assistant built end to end on a tiny NumPy autograd engine.

    import minigpt as m
    x = m.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()   # x.grad == [2., 4.]
"""
from minigpt import ops  # noqa: F401  (installs Tensor operators)
from minigpt.autograd import Tensor, gradcheck, no_grad

__version__ = "0.1.0"
__all__ = ["Tensor", "gradcheck", "no_grad", "ops"]
