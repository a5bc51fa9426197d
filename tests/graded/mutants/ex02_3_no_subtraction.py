"""Mutant of 02.3: treats softmax like an elementwise op, dx = y * dy (drops the - sum(dy * y) term)."""


def softmax_backward(y, dy, axis=-1):
    return y * dy
