"""10.1 softmax_rows with an online-softmax kernel (alt10_1_online_softmax.cu), launched on the CPU shim by its own wrapper."""
from pathlib import Path

import numpy as np

from minigpt.kernels import emulate


class ShimUnavailable(RuntimeError):
    """No C++ compiler for the CPU shim."""


def softmax_rows(x, block_size=64):
    if emulate.compiler() is None:
        raise ShimUnavailable("the CPU shim needs a C++20 compiler")
    if not (1 <= block_size <= 1024) or block_size & (block_size - 1):
        raise ValueError(f"block_size must be a power of two in 1..1024, got {block_size}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    C = x.shape[-1]
    rows = x.reshape(-1, C)
    y = np.empty_like(rows)
    if rows.size:
        kernel = emulate.build(Path(__file__).with_suffix(".cu").read_text(), label="alt10_1_online_softmax")
        kernel.launch("softmax_online_kernel", rows.shape[0], block_size, 2 * block_size * 4, y, rows, rows.shape[0], C)
    return y.reshape(x.shape)
