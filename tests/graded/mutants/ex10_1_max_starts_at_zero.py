"""Mutant of 10.1: see ex10_1_max_starts_at_zero.cu."""
from _kernel_mutant import softmax_rows_from


def softmax_rows(x, block_size=64):
    return softmax_rows_from(__file__, x, block_size)
