r"""Toy programming problems checked by execution, and the unbiased pass@k estimator (Codex).

A problem is a one-line English spec of a function of x; a solution is a one-line Toy program:

    # add 3, then square it
    x = x + 3; x = x * x; return x

Each spec chains 1–3 steps (add/subtract/multiply by K, square, halve, make positive, sum 1..x).
The hidden unit tests run the program on a few inputs and compare with a Python reference
written independently of Toy. Train and eval specs never coincide (split by a hash of the spec).

pass@k (Chen et al. 2021): sample n ≥ k programs per problem, count the c correct ones, and
estimate the chance that at least one of k samples passes:

    pass@k = E_problems[ 1 - C(n-c, k) / C(n, k) ]

The binomials overflow for large n, so compute the ratio as a product, each factor ≤ 1:

    C(n-c, k) / C(n, k) = Π_{i=n-c+1}^{n} (1 - k / i)        (= 0 exactly when n - c < k)

(Proof: C(n-c,k)/C(n,k) = [(n-c)!/(n-c-k)!] / [n!/(n-k)!] = Π_{i=n-c+1}^{n} (i-k)/i.)
Simply taking 1-(1-ĉ/n)^k with ĉ/n the pass rate is biased: it assumes sampling with replacement.

    python -m minigpt.codex        # a few problems, their tests, and pass@k for n=10, c=3
"""
import hashlib
from dataclasses import dataclass

import numpy as np

from minigpt.codex.lang import run_program

TEST_INPUTS = (-4, -1, 0, 3, 7)


# -----------------------------------------------------------------------------
# pass@k

def pass_at_k(n, c, k):
    r"""Unbiased estimate of P(at least one of k samples is correct) from c correct out of n.

    Example: n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7.
    """
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass@k needs 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n={n}, c={c}, k={k}")
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(correct_counts, n, k):
    """Average pass@k over problems, given each problem's number of correct samples (out of n)."""
    return float(np.mean([pass_at_k(n, int(c), k) for c in correct_counts]))


# -----------------------------------------------------------------------------
# the problems

# step name -> (English template, Python reference, Toy solutions (any is correct; the first is canonical))
STEPS = {
    "add": ("add {k}", lambda x, k: x + k, ["x = x + {k}", "x = {k} + x"]),
    "sub": ("subtract {k}", lambda x, k: x - k, ["x = x - {k}"]),
    "mul": ("multiply by {k}", lambda x, k: x * k, ["x = x * {k}", "x = {k} * x"]),
    "square": ("square it", lambda x, k: x * x, ["x = x * x"]),
    "halve": ("halve it", lambda x, k: x // 2, ["x = x / 2"]),
    "abs": ("make it positive", lambda x, k: abs(x), ["if x < 0 { x = -x }", "x = abs(x)"]),
    "sum": ("sum 1 to it", lambda x, k: sum(range(1, x + 1)),
            ["s = 0; while x > 0 { s = s + x; x = x - 1 }; x = s", "x = max(x, 0); x = x * (x + 1) / 2"]),
}
WITH_K = ("add", "sub", "mul")


@dataclass(frozen=True)
class Problem:
    steps: tuple  # ((name, k), ...)

    @property
    def spec(self):
        return ", then ".join(STEPS[s][0].format(k=k) for s, k in self.steps)

    @property
    def prompt(self):
        """What the model sees: the spec as a comment line."""
        return f"# {self.spec}\n"

    def reference(self, x):
        for s, k in self.steps:
            x = STEPS[s][1](x, k)
        return x

    def solution(self, rng=None):
        """A correct Toy program: canonical forms, or random correct variants if `rng` is given."""
        parts = []
        for s, k in self.steps:
            forms = STEPS[s][2]
            parts.append((forms[rng.integers(len(forms))] if rng is not None else forms[0]).replace("{k}", str(k)))
        return "; ".join(parts + ["return x"])

    @property
    def tests(self):
        return [(x, self.reference(x)) for x in TEST_INPUTS]


def split_of(problem, eval_fraction=0.2):
    """"train" or "eval", fixed by a hash of the spec (stable across processes and seeds)."""
    h = int(hashlib.sha256(problem.spec.encode()).hexdigest()[:8], 16)
    return "eval" if h % 1000 < eval_fraction * 1000 else "train"


def random_problem(rng, max_steps=3):
    steps = []
    for _ in range(int(rng.integers(1, max_steps + 1))):
        name = list(STEPS)[rng.integers(len(STEPS))]
        if name == "sum" and max(abs(Problem(tuple(steps)).reference(x)) for x in TEST_INPUTS) > 30:
            name = "add"  # keep loops short: summing up to a big number would take thousands of steps
        k = int(rng.integers(1, 10)) if name in WITH_K else 0
        steps.append((name, k))
    return Problem(tuple(steps))


def make_problems(n, seed=0, split="train", max_steps=3):
    """`n` distinct problems of one split, in a seeded order."""
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    rng = np.random.default_rng([seed, 17])
    out, seen = [], set()
    for _ in range(20 * n + 2000):
        p = random_problem(rng, max_steps)
        if p not in seen and split_of(p) == split:
            seen.add(p)
            out.append(p)
            if len(out) == n:
                return out
    raise ValueError(f"could not find {n} distinct {split} problems with max_steps={max_steps}")


def training_text(problems, seed=0, variants=True):
    """The code corpus: one document per problem, prompt line then solution line."""
    rng = np.random.default_rng([seed, 29]) if variants else None
    return "".join(p.prompt + p.solution(rng) + "\n" for p in problems)


# -----------------------------------------------------------------------------
# checking by execution

def check_program(src, problem, max_steps=2000, timeout_s=0.5):
    """True iff the Toy program returns the reference value on every hidden test input."""
    for x, want in problem.tests:
        r = run_program(src, {"x": x}, max_steps=max_steps, timeout_s=timeout_s)
        if not r.ok or r.value != want:
            return False
    return True


def failure_kinds(srcs, problem):
    """Count why programs fail: {"pass", "wrong", "syntax", "runtime", "timeout"} → count."""
    out = {"pass": 0, "wrong": 0, "syntax": 0, "runtime": 0, "timeout": 0}
    for src in srcs:
        kinds = []
        for x, want in problem.tests:
            r = run_program(src, {"x": x}, max_steps=2000, timeout_s=0.5)
            kinds.append(r.error or ("pass" if r.value == want else "wrong"))
        bad = [k for k in kinds if k != "pass"]
        out[bad[0] if bad else "pass"] += 1
    return out


def demo():
    for p in make_problems(4, seed=0, split="eval"):
        print(p.prompt + p.solution(), " tests:", p.tests, " passes:", check_program(p.solution(), p))
    print("pass@1, pass@5 with n=10, c=3:", pass_at_k(10, 3, 1), pass_at_k(10, 3, 5))
