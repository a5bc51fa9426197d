"""Mutation self-test of the graded checks: every deliberately wrong solution must be caught.

tests/graded/mutants/exNN_M_<bug>.py each define exercise NN.M's function with one classic
mistake. Each is graded like a student's package (MINIGPT_IMPL=<mutant module>,
MINIGPT_IMPL_PATH=tests/graded/mutants; solutions/ is exposed to them, which a student never gets)
and must lose points ("fail"; "crash" or "timeout" for a kernel that breaks or deadlocks), never "pass".

    python -m pytest tests/test_course_mutants.py -q                    # one mutant per exercise
    python -m pytest tests/test_course_mutants.py -q -m "slow or not slow"   # every mutant
"""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from minigpt import course, grade

MUTANT_DIR = Path(__file__).resolve().parent / "graded" / "mutants"
MUTANTS = sorted(p.stem for p in MUTANT_DIR.glob("ex*.py"))


def exercise_of(mutant: str) -> course.Exercise:
    """ex05_1_mean_over_all_tokens -> exercise 05.1"""
    nn, m = mutant[2:4], mutant[5:].split("_", 1)[0]
    return course.BY_ID[f"{nn}.{m}"]


def test_every_exercise_has_a_mutant():
    covered = {exercise_of(m).id for m in MUTANTS}
    missing = [ex.id for ex in course.EXERCISES if ex.id not in covered]
    assert not missing, f"exercises without a mutant in {MUTANT_DIR}: {missing}"
    assert len(MUTANTS) >= 2 * len(course.EXERCISES) - 4, f"only {len(MUTANTS)} mutants"


def grade_mutants(mutants):
    """{mutant: its exercise's result}, graded like a student's package (property checks not shrunk: only caught or not matters)."""
    solutions = {"solutions": str(MUTANT_DIR.parents[2] / "solutions")}  # mutants reuse parts of the reference

    with grade.verified_checks() as (checks, expected):
        def run(mutant):
            return mutant, grade.run_exercise(exercise_of(mutant), mutant, expected, checks, impl_path=str(MUTANT_DIR),
                                              timeout=240, test_timeout=60, expose=solutions, shrink=False)

        with ThreadPoolExecutor(max_workers=2) as pool:
            return dict(pool.map(run, mutants))


def assert_all_caught(results):
    for m, r in results.items():  # caught for the right reason: the mutant ran, it did not fail to import
        broken = [t["message"] for t in r["tests"] if "ModuleNotFoundError" in t["message"] or "ImportError" in t["message"]]
        assert not broken, f"{m} could not be imported in the sandbox: {broken[0][:300]}"
    skipped = {m: r for m, r in results.items() if r["status"] == "skipped"}
    survivors = {m: r["status"] for m, r in results.items() if r["status"] not in ("fail", "crash", "timeout") and m not in skipped}
    assert not survivors, f"mutants not caught by the graded checks (status should be 'fail'): {survivors}"
    for m, r in results.items():
        if m not in skipped:
            assert r["points"] < r["max_points"], f"{m} scored full points"
    if skipped:
        pytest.skip(f"{len(skipped)} mutant(s) could not be checked here: " + "; ".join(f"{m}: {r['detail']}" for m, r in skipped.items()))


def test_one_mutant_per_exercise_is_caught():
    """The default run: the first mutant of every exercise (the slow test below runs them all)."""
    first = {}
    for m in MUTANTS:
        first.setdefault(exercise_of(m).id, m)
    assert_all_caught(grade_mutants(sorted(first.values())))


@pytest.mark.slow
def test_graded_checks_catch_every_mutant():
    assert_all_caught(grade_mutants(MUTANTS))
