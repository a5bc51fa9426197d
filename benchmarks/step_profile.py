"""Where a minigpt training step spends its time, next to what this machine can do at best.

Used by `train_cpu.py --sweep`. One instrumented pass times every op's forward and backward
(wall clock, outermost op only) and sorts them into:

    gemm                  Linear / MatMul forward + backward (the projections, the output head)
    attention             the fused attention op: its batched GEMMs plus masking and softmax
    elementwise           every other op (GELU, layernorm, cross-entropy, embedding, adds, ...)
    optimizer             clip_grad_norm + AdamW.step
    python                the rest of the step: autograd bookkeeping, module code, gradient sums

and sets limits beside them, measured on this machine in tight loops:

    gemm_tight_loop       the very GEMMs of the step (same shapes and transposes), each repeated
                          back to back, best time: what the BLAS library can do with them
    attention_gemm_tight_loop   the same for attention's six batched GEMMs
    elementwise_floor     bytes the elementwise ops and the optimizer must move (each input read
                          once, each output written once) at the measured memory bandwidth

so the engine's overhead above the machine's own limits is visible on any CPU.

Clock: wall time by default. On a busy machine the wall clock also counts the time other
processes held the core, in the step but not in the best-of-N tight loops; with one thread,
`clock=time.process_time` (CPU time of this process) leaves that out, and the sweep uses it then.

    PYTHONPATH=. python benchmarks/train_cpu.py --sweep
"""
import time
from collections import defaultdict

import numpy as np

from minigpt import optim
from minigpt.autograd import Function
from minigpt.ops.attention import PackedAttention
from minigpt.ops.matmul import Linear, MatMul
from minigpt.timing import best_time


def _nbytes(obj):
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (tuple, list)):
        return sum(_nbytes(o) for o in obj)
    return 0


def _all_functions(cls=Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_functions(sub)


class StepProfile:
    """Patches every Function's forward/backward (and the optimizer) with timers while active."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.seconds = defaultdict(float)
        self.bytes = defaultdict(int)
        self.gemms = []            # (a_shape, b_shape, transpose_a, transpose_b)
        self.attn = []             # (B, nh, T, hs)
        self._depth = 0
        self._saved = []

    def _category(self, cls):
        if cls in (Linear, MatMul):
            return "gemm"
        if cls is PackedAttention:
            return "attention"
        return "elementwise"

    def _wrap(self, cls, name):
        fn = getattr(cls, name)
        cat = self._category(cls)
        prof = self

        def timed(ctx, *args, **kw):
            if prof._depth:                       # an op called by an op: counted in the outer one
                return fn(ctx, *args, **kw)
            prof._depth += 1
            t0 = prof.clock()
            try:
                out = fn(ctx, *args, **kw)
            finally:
                prof._depth -= 1
            prof.seconds[cat] += prof.clock() - t0
            if cat == "elementwise":
                prof.bytes[cat] += _nbytes(args) + _nbytes(out) + (_nbytes(getattr(ctx, "saved", None))
                                                                   if name == "backward" else 0)
            prof._record(cls, name, ctx, args, out)
            return out
        return staticmethod(timed)

    def _record(self, cls, name, ctx, args, out):
        """Note each GEMM as (a shape, b shape, a is a transposed view, b is a transposed view)."""
        if cls is Linear and name == "forward":
            x, w = args[0], args[1]
            n, k = int(np.prod(x.shape[:-1])), x.shape[-1]
            self.gemms.append(((n, k), (k, w.shape[0]), False, True))          # x2 @ Wᵀ
        elif cls is Linear and name == "backward":
            x2, w = ctx.saved
            (n, k), o = x2.shape, w.shape[0]
            if ctx.needs_grad[0]:
                self.gemms.append(((n, o), (o, k), False, False))              # g2 @ W
            if ctx.needs_grad[1]:
                self.gemms.append(((o, n), (n, k), True, False))               # g2ᵀ @ x2
        elif cls is MatMul and name == "forward":
            self.gemms.append((args[0].shape, args[1].shape, False, False))
        elif cls is MatMul and name == "backward":
            a, b = ctx.saved
            g = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
            self.gemms.append((g, b.shape[:-2] + b.shape[-2:][::-1], False, True))   # g @ bᵀ
            self.gemms.append((a.shape[:-2] + a.shape[-2:][::-1], g, True, False))   # aᵀ @ g
        elif cls is PackedAttention and name == "forward":
            B, T, nh, hs = ctx.shape
            self.attn.append((B, nh, T, hs))

    def _wrap_optimizer(self):
        prof = self

        def timed(fn, nbytes):
            def inner(*args, **kw):
                t0 = prof.clock()
                out = fn(*args, **kw)
                prof.seconds["optimizer"] += prof.clock() - t0
                prof.bytes["optimizer"] += nbytes(args)
                return out
            return inner
        clip, step = optim.clip_grad_norm, optim.AdamW.step
        grads = lambda args: sum(p.grad.nbytes for p in args[0] if p.grad is not None)  # noqa: E731
        adam = lambda args: 7 * sum(p.data.nbytes for p in args[0].params)  # p g m v read, p m v written  # noqa: E731
        self._saved += [(optim, "clip_grad_norm", clip), (optim.AdamW, "step", step)]
        optim.clip_grad_norm = timed(clip, grads)
        optim.AdamW.step = timed(step, adam)

    def __enter__(self):
        for cls in set(_all_functions()):
            for name in ("forward", "backward"):
                if name in vars(cls):
                    self._saved.append((cls, name, vars(cls)[name]))
                    setattr(cls, name, self._wrap(cls, name))
        self._wrap_optimizer()
        return self

    def __exit__(self, *exc):
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved = []


# ----------------------------------------------------------------------------
# the machine's own limits

def gemm_tight_loop(gemms, repeat=7, clock=time.perf_counter):
    """Seconds for the listed GEMMs, each timed back to back on its own (best of `repeat`)."""
    rng = np.random.default_rng(0)
    total, cache = 0.0, {}
    for spec in gemms:
        if spec not in cache:
            sa, sb, ta, tb = spec
            a = rng.standard_normal(sa[:-2] + sa[-2:][::-1] if ta else sa, dtype=np.float32)
            b = rng.standard_normal(sb[:-2] + sb[-2:][::-1] if tb else sb, dtype=np.float32)
            a = a.swapaxes(-1, -2) if ta else a
            b = b.swapaxes(-1, -2) if tb else b
            cache[spec] = best_time(lambda: a @ b, repeat, warmup=1, clock=clock)
        total += cache[spec]
    return total


def attention_gemms(B, nh, T, hs):
    """The six batched GEMMs of one naive attention forward + backward."""
    q, kt, s = (B, nh, T, hs), (B, nh, hs, T), (B, nh, T, T)
    return [(q, kt, False, True), (s, q, False, False),                    # S = QKᵀ, Y = PV
            (s, q, True, False), (q, kt, False, True),                     # dV = PᵀG, dP = GVᵀ
            (s, q, False, False), (s, q, True, False)]                     # dQ = dS K, dK = dSᵀ Q


def memory_bandwidth(nbytes, repeat=7, clock=time.perf_counter):
    """GB/s of NumPy's a + b -> out on float32 arrays of `nbytes` each (2 reads + 1 write)."""
    n = nbytes // 4
    a, b, c = np.ones(n, np.float32), np.ones(n, np.float32), np.empty(n, np.float32)
    return 3 * nbytes / best_time(lambda: np.add(a, b, out=c), repeat, warmup=1, clock=clock) / 1e9


def split_step(step, batches, bandwidth_bytes, steps=5, clock=time.perf_counter):
    """Average ms per step of each part, the tight-loop limits and the bandwidth floor (see module doc).

    bandwidth_bytes: array size for the bandwidth test, e.g. the step's largest activation.
    """
    for x, y in batches[:2]:
        step(x, y)                                            # warm
    prof = StepProfile(clock)
    t0 = clock()
    with prof:
        for x, y in batches[2:2 + steps]:
            step(x, y)
    wall = (clock() - t0) / steps
    ms = {k: 1e3 * v / steps for k, v in prof.seconds.items()}
    gemms = prof.gemms[:len(prof.gemms) // steps]
    attn = [g for shape in prof.attn[:len(prof.attn) // steps] for g in attention_gemms(*shape)]
    bw = memory_bandwidth(bandwidth_bytes, clock=clock)
    moved = (prof.bytes["elementwise"] + prof.bytes["optimizer"]) / steps
    out = {"step": 1e3 * wall,
           "gemm": ms.get("gemm", 0.0), "gemm_tight_loop": 1e3 * gemm_tight_loop(gemms, clock=clock),
           "attention": ms.get("attention", 0.0), "attention_gemm_tight_loop": 1e3 * gemm_tight_loop(attn, clock=clock),
           "elementwise": ms.get("elementwise", 0.0), "optimizer": ms.get("optimizer", 0.0),
           "elementwise_and_optimizer_MB": moved / 1e6,
           "elementwise_and_optimizer_floor": 1e3 * moved / (bw * 1e9),
           "memory_bandwidth_GBps": bw}
    out["python"] = out["step"] - sum(ms.values())
    return {k: round(v, 2) for k, v in out.items()}
