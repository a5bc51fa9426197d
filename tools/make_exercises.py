r"""Generate the students' exercises/ package from the reference solutions/ (one source of truth).

Every block between `### BEGIN SOLUTION` and `### END SOLUTION` inside a function of solutions/*.py
is replaced by `raise NotImplementedError("exercise <id>: ...")`, where <id> comes from the
"Exercise 05.1:" line of the enclosing function's docstring. Signatures, docstrings and the
markers stay, so students see exactly where to write. In *.cu files the markers are `//` comments,
the block becomes a comment holding the sentinel EXERCISE_NOT_IMPLEMENTED, and the exercise id
comes from the nearest "Exercise 10.1" above the block. Other files are copied unchanged.

    python tools/make_exercises.py            # (re)write exercises/
    python tools/make_exercises.py --check    # exit 1 if exercises/ differs from what solutions/ gives

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


def expected_files(solutions: Path) -> dict[str, str]:
    """{relative path: text} of everything exercises/ should contain."""
    files = {}
    for path in sorted(solutions.rglob("*")):
        if path.is_file() and path.suffix in COPY_SUFFIXES and "__pycache__" not in path.parts:
            rel = path.relative_to(solutions).as_posix()
            files[rel] = render(path, rel)
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when exercises/ drifted")
    ap.add_argument("--solutions", type=Path, default=ROOT / "solutions", help="source package (default: solutions/)")
    ap.add_argument("--exercises", type=Path, default=ROOT / "exercises", help="target package (default: exercises/)")
    ap.add_argument("--tests", type=Path, default=ROOT / "tests" / "graded", help="graded checks whose SHA256SUMS to keep current")
    args = ap.parse_args(argv)
    try:
        if args.check:
            problems = drift(args.solutions, args.exercises) + manifest_drift(args.tests)
            for p in problems:
                print(p)
            if problems:
                print("exercises/ or the graded checks' SHA256SUMS are out of date: run python tools/make_exercises.py", file=sys.stderr)
                return 1
            print("exercises/ is in sync with solutions/")
            return 0
        written = generate(args.solutions, args.exercises) + write_manifest(args.tests)
        print(f"wrote {len(written)} file(s) under {args.exercises}" + "".join(f"\n  {w}" for w in written))
        return 0
    except ExerciseError as err:
        print(f"make_exercises: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
