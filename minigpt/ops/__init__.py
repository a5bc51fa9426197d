"""Hand-written differentiable ops. Each file holds one family, forward beside backward.

`Tensor`'s operators (+, -, *, /, @, **, [ ]) and methods (.sum(), .reshape(), .exp(), ...),
listed in its class body (autograd.py), call the ops below; this package registers itself there.
"""
import sys

from minigpt.autograd import register_ops
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

register_ops(sys.modules[__name__])  # Tensor's operators (autograd.py) call the ops above
