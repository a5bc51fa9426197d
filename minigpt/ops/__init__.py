"""Hand-written differentiable ops. Each file holds one family, forward beside backward.

Importing this package also gives `Tensor` its operators (+, -, *, /, @, **, [ ])
and methods (.sum(), .reshape(), .exp(), ...), all routed to the ops below.
"""
from minigpt.autograd import Tensor
from minigpt.ops.attention import attention, causal_mask, flash_attention, local_strided_mask, packed_attention
from minigpt.ops.dropout import dropout
from minigpt.ops.elementwise import add, div, exp, gelu, log, mul, neg, pow, relu, silu, sqrt, sub, swiglu, tanh
from minigpt.ops.embedding import embedding
from minigpt.ops.layernorm import layernorm
from minigpt.ops.logprob import log_sigmoid, token_logprobs
from minigpt.ops.loss import IGNORE_INDEX, cross_entropy
from minigpt.ops.matmul import linear, matmul
from minigpt.ops.reduce import max, mean, sum
from minigpt.ops.rmsnorm import rmsnorm
from minigpt.ops.rope import rope
from minigpt.ops.shape import concat, getitem, masked_fill, permute, reshape, split, transpose, where
from minigpt.ops.softmax import log_softmax, softmax

__all__ = ["IGNORE_INDEX", "add", "attention", "causal_mask", "concat", "cross_entropy", "div", "dropout", "embedding", "exp",
           "flash_attention", "gelu", "getitem", "layernorm", "linear", "local_strided_mask", "log",
           "log_sigmoid", "log_softmax", "masked_fill", "matmul", "max", "mean", "mul", "neg", "packed_attention",
           "permute", "pow", "relu", "reshape", "rmsnorm", "rope", "silu", "softmax", "split", "sqrt", "sub", "sum",
           "swiglu", "tanh", "token_logprobs", "transpose", "where"]

# -----------------------------------------------------------------------------
# Tensor operators and methods

Tensor.__add__ = lambda a, b: add(a, b)
Tensor.__radd__ = lambda a, b: add(b, a)
Tensor.__sub__ = lambda a, b: sub(a, b)
Tensor.__rsub__ = lambda a, b: sub(b, a)
Tensor.__mul__ = lambda a, b: mul(a, b)
Tensor.__rmul__ = lambda a, b: mul(b, a)
Tensor.__truediv__ = lambda a, b: div(a, b)
Tensor.__rtruediv__ = lambda a, b: div(b, a)
Tensor.__neg__ = lambda a: neg(a)
Tensor.__pow__ = lambda a, p: pow(a, p)
Tensor.__matmul__ = lambda a, b: matmul(a, b)
Tensor.__rmatmul__ = lambda a, b: matmul(b, a)
Tensor.__getitem__ = lambda a, idx: getitem(a, idx)
Tensor.sum = lambda a, axis=None, keepdims=False: sum(a, axis, keepdims)
Tensor.mean = lambda a, axis=None, keepdims=False: mean(a, axis, keepdims)
Tensor.max = lambda a, axis=None, keepdims=False: max(a, axis, keepdims)
Tensor.reshape = lambda a, *shape: reshape(a, *shape)
Tensor.permute = lambda a, *axes: permute(a, *axes)
Tensor.transpose = lambda a, i=-2, j=-1: transpose(a, i, j)
Tensor.T = property(lambda a: transpose(a, -2, -1))
Tensor.exp = lambda a: exp(a)
Tensor.log = lambda a: log(a)
Tensor.sqrt = lambda a: sqrt(a)
Tensor.tanh = lambda a: tanh(a)
Tensor.relu = lambda a: relu(a)
Tensor.softmax = lambda a, axis=-1: softmax(a, axis)
