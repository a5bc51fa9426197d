"""Mutant of 02.1: returns the gradients in the output's shape, never summing broadcast dims."""


def mul_backward(a, b, grad):
    return grad * b, grad * a
