r"""A multi-step toy arithmetic task for chain-of-thought: add k+1 digits modulo m (default 10).

    prompt          3+5+2+7 mod 10
    direct answer   7
    worked steps    3+5=8 8+2=0 0+7=7 so 7

Each step is one lookup in an m×m table, but the steps must happen in order: the answer after
k steps depends on every earlier partial sum. A transformer's forward pass has a fixed depth, so
it can chain only a few lookups per emitted token; asked for the answer directly, a small model
runs out of depth as k grows (accuracy falls toward chance, 1/m). Writing the steps out
(chain of thought) lets it spend one token sequence per lookup, each step as easy as the first.

Problems are keyed by their digits; a hash sends a fixed fraction to the held-out split, so
evaluation never sees a training problem (long problems are too many to repeat by chance anyway).

    python -m minigpt.data.arith
"""
import zlib
from dataclasses import dataclass

import numpy as np

ALPHABET = "0123456789+= modso"  # every character the task writes


@dataclass(frozen=True)
class ArithProblem:
    digits: tuple  # (d_0, ..., d_k), each in 0..mod-1
    mod: int = 10  # the modulus m (2..10)

    @property
    def steps(self):
        return len(self.digits) - 1

    @property
    def prompt(self):
        return "+".join(map(str, self.digits)) + f" mod {self.mod}"

    @property
    def answer(self):
        return str(sum(self.digits) % self.mod)

    def partial_sums(self):
        """[s_1, ..., s_k] with s_i = (d_0 + ... + d_i) mod m."""
        return [int(s) % self.mod for s in np.cumsum(self.digits)[1:]]

    def worked(self):
        """The chain of thought: one 'a+b=c' per step, then 'so <answer>'."""
        out, acc = [], self.digits[0]
        for d, s in zip(self.digits[1:], self.partial_sums()):
            out.append(f"{acc}+{d}={s}")
            acc = s
        return " ".join(out) + f" so {self.answer}"

    def response(self, cot):
        return self.worked() if cot else self.answer


def split_of(problem, eval_fraction=0.2):
    key = "".join(map(str, problem.digits)) + f"%{problem.mod}"
    return "eval" if zlib.crc32(key.encode()) % 1000 < eval_fraction * 1000 else "train"


def make_problems(n, steps=(1, 2, 3, 4), seed=0, split="train", mod=10):
    """`n` problems with a number of steps drawn uniformly from `steps`, from one split."""
    if not 2 <= mod <= 10:
        raise ValueError(f"mod must be in 2..10 (single-digit results), got {mod}")
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        k = int(rng.choice(steps))
        p = ArithProblem(tuple(int(d) for d in rng.integers(0, mod, size=k + 1)), mod)
        if split_of(p) == split:
            out.append(p)
    return out


def final_answer(text):
    """The answer a response commits to: the last digit after 'so', else the whole text stripped.

    Example: '3+5=8 8+2=0 so 0' → '0';  '7' → '7'.
    """
    text = text.strip()
    if " so " in f" {text}":
        return text.rsplit("so", 1)[1].strip()
    return text


def check_steps(problem, text):
    """Fraction of the worked steps written correctly (a program-checkable verifier for reflection)."""
    want = problem.worked().split(" ")[:-2]  # the 'a+b=c' steps
    got = text.strip().split(" ")
    return float(np.mean([i < len(got) and got[i] == w for i, w in enumerate(want)])) if want else 1.0


if __name__ == "__main__":
    for p in make_problems(4, seed=1):
        print(f"{p.prompt:<20} direct: {p.answer}   worked: {p.worked()}")
