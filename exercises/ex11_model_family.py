# GENERATED from solutions/ex11_model_family.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercises for notebook 11 (the model family): Codex's unbiased pass@k (Chen et al. 2021).

Notebook 11 §4 samples n programs per problem, counts the c that pass the hidden tests and
estimates pass@k; it derives the estimator and calls this function through `course.check`.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_11_1_pass_at_k
"""
from __future__ import annotations

import operator


# -----------------------------------------------------------------------------
def pass_at_k(n, c, k):
    r"""Exercise 11.1: the unbiased estimate of pass@k from c correct programs among n samples.

    n, c, k: integers (Python or NumPy), 0 <= c <= n and 1 <= k <= n; anything else raises a
    ValueError that names the bad argument (a float such as 10.0 is not an integer).
    Returns a Python float in [0, 1]: the chance that k programs drawn from the n without
    replacement include at least one of the c correct ones (notebook 11, §4). It must stay
    exact to ~1e-12 for n up to 10^5 and any c, k (no overflow, no loss of digits).

    Example: pass_at_k(5, 2, 2) -> 0.7 (of the 10 pairs among 5 samples, 3 contain no correct one).
    Example: pass_at_k(10, 3, 1) -> 0.3, pass_at_k(10, 0, 4) -> 0.0, pass_at_k(10, 8, 3) -> 1.0.
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 11.1: pass_at_k() is not written yet (your code goes between the markers)")
    ### END SOLUTION
