r"""Generate the students' exercises/ package from the reference solutions/ (one source of truth).

Every block between `### BEGIN SOLUTION` and `### END SOLUTION` inside a function of solutions/*.py
is replaced by `raise NotImplementedError("exercise <id>: ...")`, where <id> comes from the
"Exercise 05.1:" line of the enclosing function's docstring. Signatures, docstrings and the
markers stay, so students see exactly where to write. In *.cu files the markers are `//` comments,
the block becomes a comment holding the sentinel EXERCISE_NOT_IMPLEMENTED, and the exercise id
comes from the nearest "Exercise 10.1" above the block. Other files are copied unchanged.

    python tools/make_exercises.py            # (re)write exercises/
    python tools/make_exercises.py --check    # exit 1 if anything generated is out of date
    python tools/make_exercises.py --new 04.1 gpt2_param_count   # scaffold a new exercise
    python tools/make_exercises.py --release DIR                 # the course for students: no solutions/

One registry, minigpt/course.py EXERCISES, generates the pytest markers in pyproject.toml, the
exercise table of docs/course.md and exercises/README.md (the score table of `minigpt grade`
reads it directly); `--check` fails when any of them is stale.

It also keeps tests/graded/SHA256SUMS current: `minigpt grade` runs only a copy of the graded
checks that matches those checksums.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SENTINEL = "EXERCISE_NOT_IMPLEMENTED"
EXERCISE_ID = re.compile(r"Exercise (\d{2}\.\d+)")
COPY_SUFFIXES = {".py", ".cu", ".cuh", ".h", ".md", ".txt", ".json"}


class ExerciseError(ValueError):
    """solutions/ is malformed: unbalanced markers, a block outside a function, no exercise id."""


# -----------------------------------------------------------------------------
def _blocks(lines: list[str], where: str, begin: str, end: str) -> list[tuple[int, int]]:
    """(begin_line, end_line) index pairs of the solution blocks, checked for balance."""
    blocks, start = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == begin:
            if start is not None:
                raise ExerciseError(f"{where}:{i + 1}: '{begin}' inside another solution block (line {start + 1})")
            start = i
        elif text == end:
            if start is None:
                raise ExerciseError(f"{where}:{i + 1}: '{end}' without a matching '{begin}'")
            blocks.append((start, i))
            start = None
    if start is not None:
        raise ExerciseError(f"{where}:{start + 1}: '{begin}' is never closed by '{end}'")
    return blocks


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def stub_python(source: str, where: str) -> str:
    """Replace each solution block of a Python module by a NotImplementedError stub."""
    lines = source.splitlines(keepends=True)
    blocks = _blocks(lines, where, BEGIN, END)
    if not blocks:
        return source
    functions = [n for n in ast.walk(ast.parse(source, filename=where)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    out, pos = [], 0
    for start, stop in blocks:
        # the END marker is a comment, so it may lie past end_lineno; the block's first code line may not
        owners = [f for f in functions if f.lineno < start + 1 < f.end_lineno]
        if not owners:
            raise ExerciseError(f"{where}:{start + 1}: a solution block must sit inside a function body")
        fn = max(owners, key=lambda f: f.lineno)  # the innermost enclosing function
        found = EXERCISE_ID.search(ast.get_docstring(fn) or "")
        if not found:
            raise ExerciseError(f"{where}:{fn.lineno}: {fn.name}() has a solution block but its docstring names no 'Exercise NN.M'")
        ind = _indent(lines[start])
        message = f"exercise {found.group(1)}: {fn.name}() is not written yet (your code goes between the markers)"
        out += lines[pos:start]
        out += [f"{ind}{BEGIN}\n", f'{ind}raise NotImplementedError("{message}")\n', f"{ind}{END}\n"]
        pos = stop + 1
    out += lines[pos:]
    return "".join(out)


def stub_cuda(source: str, where: str) -> str:
    """Replace each `// ### BEGIN SOLUTION` block of a CUDA file by a comment with the sentinel."""
    lines = source.splitlines(keepends=True)
    blocks = _blocks(lines, where, "// " + BEGIN, "// " + END)
    out, pos = [], 0
    for start, stop in blocks:
        ids = EXERCISE_ID.findall("".join(lines[:start]))
        if not ids:
            raise ExerciseError(f"{where}:{start + 1}: no 'Exercise NN.M' comment above this solution block")
        ind = _indent(lines[start])
        out += lines[pos:start]
        out += [
            f"{ind}// {BEGIN}\n",
            f"{ind}// exercise {ids[-1]}: write the kernel body here and delete this line ({SENTINEL})\n",
            f"{ind}// {END}\n",
        ]
        pos = stop + 1
    out += lines[pos:]
    return "".join(out)


def header(rel: str, comment: str) -> str:
    return (
        f"{comment} GENERATED from solutions/{rel} by tools/make_exercises.py.\n"
        f"{comment} Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.\n"
    )


def render(path: Path, rel: str) -> str:
    """The exercises/ text for one solutions/ file."""
    source = path.read_text(encoding="utf-8")
    where = f"solutions/{rel}"
    if path.suffix == ".py":
        return header(rel, "#") + stub_python(source, where)
    if path.suffix in (".cu", ".cuh", ".h"):
        return header(rel, "//") + stub_cuda(source, where)
    return source


EXERCISES_README = """# exercises/ — your code goes here

GENERATED by tools/make_exercises.py from the instructors' solutions/ (do not copy files between them).

Each file holds the exercises of one notebook (`ex05_pretraining.py`: notebook 05). Every exercise
is one function with its task in the docstring; write your code between `### BEGIN SOLUTION` and
`### END SOLUTION`, replacing the `raise NotImplementedError(...)` line. The notebooks call your
functions through `minigpt.course` and use the reference until yours is written.

    minigpt grade                         # score every exercise
    minigpt grade --only 05.1 --verbose   # one exercise, every failed check in full

| id | function | file | what |
|----|----------|------|------|
{table}
See docs/course.md for the details.
"""


def exercise_rows(files: dict | None = None) -> list[tuple]:
    """(id, function, file, title, marker) per registered exercise, from the one registry: minigpt.course.EXERCISES."""
    from minigpt import course

    rows = []
    for ex in course.EXERCISES:
        cu = ROOT / "solutions" / f"{ex.module}.cu"
        rows.append((ex.id, ex.function, f"{ex.module}.cu" if cu.exists() else f"{ex.module}.py", ex.title, ex.marker))
    return rows


def expected_files(solutions: Path) -> dict[str, str]:
    """{relative path: text} of everything exercises/ should contain (README.md is the students' own)."""
    files = {}
    for path in sorted(solutions.rglob("*")):
        if path.is_file() and path.suffix in COPY_SUFFIXES and "__pycache__" not in path.parts:
            rel = path.relative_to(solutions).as_posix()
            if rel == "README.md":
                continue
            files[rel] = render(path, rel)
    table = "\n".join(f"| {i} | `{f}` | `{file}` | {t} |" for i, f, file, t, _ in exercise_rows())
    files["README.md"] = EXERCISES_README.format(table=table)
    return files


def actual_files(exercises: Path) -> dict[str, str]:
    if not exercises.is_dir():
        return {}
    return {
        p.relative_to(exercises).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(exercises.rglob("*"))
        if p.is_file() and p.suffix in COPY_SUFFIXES and "__pycache__" not in p.parts
    }


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


# -----------------------------------------------------------------------------
def drift(solutions: Path, exercises: Path) -> list[str]:
    """Human-readable differences between exercises/ and what solutions/ generates (empty: in sync)."""
    want, have = expected_files(solutions), actual_files(exercises)
    problems = [f"missing: exercises/{rel}" for rel in want if rel not in have]
    problems += [f"out of date: exercises/{rel}" for rel in want if rel in have and have[rel] != want[rel]]
    problems += [f"not generated from solutions/: exercises/{rel}" for rel in have if rel not in want]
    return problems


def generate(solutions: Path, exercises: Path) -> list[str]:
    """Write exercises/ from solutions/; remove generated files whose source is gone. Returns written paths."""
    want = expected_files(solutions)
    written = []
    for rel, text in want.items():
        target = exercises / rel
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            _write_atomic(target, text)
            written.append(rel)
    for rel in actual_files(exercises):
        if rel not in want:
            (exercises / rel).unlink()
            written.append(f"{rel} (removed)")
    return written


# -----------------------------------------------------------------------------
# the registry (minigpt/course.py EXERCISES) -> pyproject markers, the docs table
PYPROJECT = ROOT / "pyproject.toml"
DOCS = ROOT / "docs" / "course.md"
MARKERS_BEGIN, MARKERS_END = "  # BEGIN exercise markers (generated from minigpt/course.py by tools/make_exercises.py)", "  # END exercise markers"
TABLE_BEGIN, TABLE_END = "<!-- BEGIN exercise table (generated from minigpt/course.py by tools/make_exercises.py) -->", "<!-- END exercise table -->"


def markers_block() -> str:
    from minigpt import course

    return "\n".join([MARKERS_BEGIN] + [f'  "{name}: {doc}",' for name, doc in course.markers()] + [MARKERS_END])


def docs_table() -> str:
    lines = [TABLE_BEGIN, "| id | function | what | file (`exercises/…`) | pytest marker |", "|----|----------|------|----------------------|---------------|"]
    lines += [f"| {i} | `{f}` | {t} | `{file}` | `{m}` |" for i, f, file, t, m in exercise_rows()]
    return "\n".join(lines + [TABLE_END])


def _replace_block(text: str, begin: str, end: str, block: str, where: str) -> str:
    if begin not in text or end not in text:
        raise ExerciseError(f"{where} has no generated block between {begin.strip()!r} and {end.strip()!r}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + block + tail


def generated_texts() -> dict[Path, str]:
    """{file: text} of the files that hold a block generated from the registry."""
    out = {}
    if PYPROJECT.is_file():
        out[PYPROJECT] = _replace_block(PYPROJECT.read_text(), MARKERS_BEGIN, MARKERS_END, markers_block(), "pyproject.toml")
    if DOCS.is_file():
        out[DOCS] = _replace_block(DOCS.read_text(), TABLE_BEGIN, TABLE_END, docs_table(), "docs/course.md")
    return out


def registry_drift() -> list[str]:
    return [f"out of date: {p.relative_to(ROOT)} (generated from the exercise registry)" for p, text in generated_texts().items() if p.read_text() != text]


def write_registry() -> list[str]:
    written = []
    for p, text in generated_texts().items():
        if p.read_text() != text:
            _write_atomic(p, text)
            written.append(str(p.relative_to(ROOT)))
    return written


def manifest_drift(tests: Path) -> list[str]:
    """[] when tests/SHA256SUMS matches the graded checks, else one line saying it is stale."""
    from minigpt import grade

    path = tests / grade.MANIFEST
    if not tests.is_dir():
        return []
    if not path.is_file() or path.read_text() != grade.manifest_text(tests):
        return [f"out of date: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} (the graded checks' checksums)"]
    return []


def write_manifest(tests: Path) -> list[str]:
    from minigpt import grade

    if not tests.is_dir() or not manifest_drift(tests):
        return []
    _write_atomic(tests / grade.MANIFEST, grade.manifest_text(tests))
    return [f"{tests.name}/{grade.MANIFEST}"]


# -----------------------------------------------------------------------------
# --new: scaffold an exercise
SOLUTION_STUB = '''

def {function}({args}):
    r"""Exercise {id}: TODO one line: what the function computes.

    TODO: the inputs and outputs (shapes, dtypes), the conventions that are graded, and one
    worked example small enough to check by hand:

    Example: {function}(...) -> ...
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("instructors: write the reference solution of exercise {id} here")
    ### END SOLUTION
'''

MODULE_HEAD = '''r"""Exercises for notebook {nn}.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m {marker}
"""
from __future__ import annotations

import numpy as np  # noqa: F401
'''

TEST_STUB = '''"""Graded checks for exercise {id}: {function} (solutions/{module}.py)."""
import numpy as np
import pytest
from hypothesis import given

from _props import expect_close, seeds

pytestmark = pytest.mark.{marker}


def reference(*args):
    """TODO: an independent float64 reference (loops, a closed form), never the solution itself."""
    raise NotImplementedError


@pytest.mark.points(2)
def test_worked_example(impl):
    """TODO: the docstring's worked example, worked by hand."""
    pytest.fail("TODO: write the worked-example check of exercise {id}")


@pytest.mark.points(3)
@given(seed=seeds)
def test_property_against_reference(impl, seed):
    """TODO: the property (formula) this check tests, on adversarial inputs (see _props.py)."""
    rng = np.random.default_rng(seed)
    pytest.fail("TODO: draw inputs with rng, call impl.{function}(...), expect_close(actual, reference(...), ...)")
'''

MUTANT_STUB = '''"""Mutant of {id}: TODO say which classic mistake this is (the graded checks must fail it)."""


def {function}(*args, **kwargs):
    raise NotImplementedError("TODO: a deliberately wrong {function}")
'''


def scaffold(ex_id: str, function: str, root: Path = ROOT) -> list[Path]:
    """Create everything a new exercise needs under `root`; the instructor then fills in the TODOs."""
    if not re.fullmatch(r"\d{2}\.\d+", ex_id):
        raise ExerciseError(f"exercise id must look like 04.1, got {ex_id!r}")
    if not function.isidentifier():
        raise ExerciseError(f"{function!r} is not a Python function name")
    reg = root / "minigpt" / "course.py"
    src = reg.read_text()
    if f'Exercise("{ex_id}"' in src or f'"{function}", "ex_' in src:
        raise ExerciseError(f"exercise {ex_id} or function {function} is already registered in minigpt/course.py")
    nn, m = ex_id.split(".")
    marker = f"ex_{nn}_{m}_{function}"
    existing = sorted((root / "solutions").glob(f"ex{nn}_*.py"))
    notebooks = sorted((root / "tools" / "build_notebooks").glob(f"{nn}_*.py"))  # 11_model_family.py -> ex11_model_family
    module = existing[0].stem if existing else f"ex{nn}_{notebooks[0].stem[3:]}" if notebooks else f"ex{nn}_{function}"
    created = []
    sol = root / "solutions" / f"{module}.py"
    text = sol.read_text() if sol.exists() else MODULE_HEAD.format(nn=nn, marker=marker)
    _write_atomic(sol, text.rstrip("\n") + "\n\n\n" + SOLUTION_STUB.format(function=function, id=ex_id, args="x").lstrip("\n"))
    created.append(sol)
    # the registry: one line in EXERCISES, in id order
    line = f'    Exercise("{ex_id}", "{module}", "{function}", "{marker}", "TODO: one line for the score table"),\n'
    entries = [ln for ln in src.splitlines(keepends=True) if ln.lstrip().startswith("Exercise(\"")]
    after = [ln for ln in entries if ln.split('"')[1] < ex_id]
    anchor = after[-1] if after else None
    src = src.replace(anchor, anchor + line, 1) if anchor else src.replace(entries[0], line + entries[0], 1)
    _write_atomic(reg, src)
    created.append(reg)
    test = root / "tests" / "graded" / f"test_graded_{nn}_{m}_{function}.py"
    _write_atomic(test, TEST_STUB.format(id=ex_id, function=function, module=module, marker=marker))
    created.append(test)
    mutant = root / "tests" / "graded" / "mutants" / f"ex{nn}_{m}_todo_bug.py"
    _write_atomic(mutant, MUTANT_STUB.format(id=ex_id, function=function))
    created.append(mutant)
    return created


# -----------------------------------------------------------------------------
# --release: the course without its solutions
RELEASE_EXCLUDE = ("solutions/", "tests/graded/mutants/", "tests/test_course_mutants.py")


def release(dest: Path) -> list[str]:
    """Copy the checkout's tracked files into dest, without solutions/ and the mutants (which use them)."""
    import shutil
    import subprocess

    dest = Path(dest)
    stale = drift(ROOT / "solutions", ROOT / "exercises")
    if stale:  # exercises/ must be exactly the stubs: never ship a written solution
        raise ExerciseError(f"exercises/ differs from what solutions/ generates ({stale[0]}): run python tools/make_exercises.py first")
    if dest.exists() and any(dest.iterdir()):
        raise ExerciseError(f"{dest} is not empty")
    try:
        files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError) as err:
        raise ExerciseError(f"--release needs a git checkout (git ls-files failed: {err})") from None
    copied = []
    for rel in files:
        if not rel or rel.startswith(RELEASE_EXCLUDE) or not (ROOT / rel).is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
        copied.append(rel)
    return copied


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when exercises/ drifted")
    ap.add_argument("--solutions", type=Path, default=ROOT / "solutions", help="source package (default: solutions/)")
    ap.add_argument("--exercises", type=Path, default=ROOT / "exercises", help="target package (default: exercises/)")
    ap.add_argument("--tests", type=Path, default=ROOT / "tests" / "graded", help="graded checks whose SHA256SUMS to keep current")
    ap.add_argument("--new", nargs=2, metavar=("ID", "FUNCTION"), help="scaffold exercise ID (e.g. 04.1) FUNCTION: solution stub, registry entry, graded checks, a mutant")
    ap.add_argument("--release", type=Path, metavar="DIR", help="write a student release of the course into DIR: everything but solutions/ and the mutants")
    args = ap.parse_args(argv)
    try:
        if args.check:
            problems = drift(args.solutions, args.exercises) + manifest_drift(args.tests) + registry_drift()
            for p in problems:
                print(p)
            if problems:
                print("exercises/ or the graded checks' SHA256SUMS are out of date: run python tools/make_exercises.py", file=sys.stderr)
                return 1
            print("exercises/ is in sync with solutions/")
            return 0
        if args.new:
            for path in scaffold(*args.new):
                print(f"created {path}")
        if args.release:
            release(args.release)
            print(f"student release written to {args.release} (no solutions/, no mutants)")
            return 0
        written = generate(args.solutions, args.exercises) + write_registry() + write_manifest(args.tests)
        print(f"wrote {len(written)} file(s) under {args.exercises}" + "".join(f"\n  {w}" for w in written))
        return 0
    except ExerciseError as err:
        print(f"make_exercises: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
