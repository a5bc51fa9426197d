"""minigpt.timing.best_time: the minimum over the timed calls, warmup calls not timed."""
from minigpt.timing import best_time


def test_best_time_is_the_minimum_of_the_timed_calls():
    ticks = iter([0, 5, 5, 7, 7, 10])  # with warmup=1 the clock sees calls 2-4, which take 5, 2 and 3 ticks
    calls = []
    assert best_time(lambda: calls.append(1), repeat=3, warmup=1, clock=lambda: next(ticks)) == 2
    assert len(calls) == 4
