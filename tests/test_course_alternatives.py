"""False-failure guard of the graded checks: correct solutions written differently from the reference get full marks.

tests/graded/alternatives/altNN_M_<how>.py each solve exercise NN.M correctly in another style than
solutions/ (vectorised vs loop, einsum, an explicit Jacobian, HF-style top-p, float64 work cast
back, an online-softmax kernel, ...). Each is graded like a student's package — in the sandbox,
with no access to solutions/ — and must score full marks on its exercise. The mutants
(tests/test_course_mutants.py) check the opposite direction.

    python -m pytest tests/test_course_alternatives.py -q -m "slow or not slow"
"""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from minigpt import course, grade

ALT_DIR = Path(__file__).resolve().parent / "graded" / "alternatives"
ALTERNATIVES = sorted(p.stem for p in ALT_DIR.glob("alt*.py"))


def exercise_of(alt: str) -> course.Exercise:
    """alt05_1_float64_onehot -> exercise 05.1"""
    return course.BY_ID[f"{alt[3:5]}.{alt[6:].split('_', 1)[0]}"]


def test_every_exercise_has_a_correct_alternative():
    covered = {exercise_of(a).id for a in ALTERNATIVES}
    missing = [ex.id for ex in course.EXERCISES if ex.id not in covered]
    assert not missing, f"exercises without a correct alternative in {ALT_DIR}: {missing}"


def test_alternatives_are_independent_of_the_reference():
    for alt in ALTERNATIVES:
        text = (ALT_DIR / f"{alt}.py").read_text()
        assert "solutions" not in text and "exercises" not in text, f"{alt} must not import the reference or the stubs"


@pytest.mark.slow
def test_correct_alternatives_get_full_marks():
    with grade.verified_checks() as (checks, expected):
        def run(alt):
            return alt, grade.run_exercise(exercise_of(alt), alt, expected, checks, impl_path=str(ALT_DIR), timeout=240, test_timeout=60)

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(pool.map(run, ALTERNATIVES))
    rejected = {}
    for alt, r in results.items():
        if r["status"] == "skipped":
            continue
        if r["status"] != "pass" or r["points"] != r["max_points"]:
            first = next((t for t in r["tests"] if t["outcome"] != "passed"), {"name": "?", "message": r["detail"]})
            rejected[alt] = f"{r['status']} {r['points']:g}/{r['max_points']:g}: {first['name']}: {first['message'][:1500]}"
    assert not rejected, "correct alternatives lost points (a graded check rejects a right answer):\n" + "\n".join(
        f"- {alt}: {why}" for alt, why in rejected.items())
