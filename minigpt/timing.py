r"""Wall-clock timing for the notebooks and benchmarks: the best of a few calls.

Other processes can only make a call slower, never faster, so the minimum over a few calls is the
figure to compare between two versions of an op (a mean would mix in the machine's noise).

    python -c "from minigpt.timing import best_time; print(best_time(lambda: sum(range(10**6))))"
"""
import time


def best_time(fn, repeat=3, warmup=0, clock=time.perf_counter):
    """Best time of `repeat` calls of fn(), in seconds, after `warmup` calls that are not timed
    (the first call of an op may allocate or compile). `clock`: time.process_time to count CPU time only.

    Example: best_time(lambda: time.sleep(0.01), repeat=2) -> about 0.0101.
    """
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best
