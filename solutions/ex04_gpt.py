r"""Exercise for notebook 04 (the GPT): count a GPT's parameters from its config, without building it.

Notebook 04 §6 derives where the parameters sit and calls this function through `course.check`
to reproduce the GPT-2 and GPT-3 size tables (GPT-3 175B never fits in memory here).

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_04_1_gpt_param_count
"""
from __future__ import annotations

import operator


# -----------------------------------------------------------------------------
def gpt_param_count(vocab_size, block_size, n_layer, n_embd, bias=True, tied_head=True):
    r"""Exercise 04.1: the number of parameters of the course's GPT (GPT-2's layout) with this config.

    vocab_size V, block_size T, n_embd C: integers >= 1; n_layer L: integer >= 0 (anything else:
    ValueError naming the argument). The model is notebook 04's: token and learned position
    embeddings, L pre-LN blocks (LayerNorm, attention with a fused QKV projection and an output
    projection, LayerNorm, MLP of hidden width 4C), a final LayerNorm and the output head.
    bias=False: no bias vector in any Linear or LayerNorm (a LayerNorm keeps its gain).
    tied_head=False: the head is its own C x V matrix (no bias) instead of the token embedding.
    The number of heads does not change the count. Returns an exact Python int (GPT-3 175B too).

    Example: gpt_param_count(10, 4, 1, 2) -> 106, gpt_param_count(10, 4, 0, 2) -> 32
    Example: gpt_param_count(50257, 1024, 12, 768) -> 124439808 (GPT-2 small as released)
    """
    ### BEGIN SOLUTION
    sizes = {"vocab_size": vocab_size, "block_size": block_size, "n_layer": n_layer, "n_embd": n_embd}
    for name, value in sizes.items():
        try:
            sizes[name] = operator.index(value)
        except TypeError:
            raise ValueError(f"{name} must be an integer, got {value!r}") from None
        if sizes[name] < (0 if name == "n_layer" else 1):
            raise ValueError(f"{name} must be {'>= 0' if name == 'n_layer' else '>= 1'}, got {value!r}")
    V, T, L, C = (sizes[k] for k in ("vocab_size", "block_size", "n_layer", "n_embd"))
    b = 1 if bias else 0

    def linear(n_in, n_out):  # weight + optional bias
        return n_in * n_out + b * n_out

    layernorm = C + b * C  # gain + optional bias
    block = layernorm + linear(C, 3 * C) + linear(C, C) + layernorm + linear(C, 4 * C) + linear(4 * C, C)
    head = 0 if tied_head else C * V
    return V * C + T * C + L * block + layernorm + head
    ### END SOLUTION
