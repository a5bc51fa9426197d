r"""`minigpt grade`: score the course exercises with the graded checks in tests/graded/.

Where the verdict is made (see docs/course.md, "Threat model"):
  - the graded checks run in a *trusted* pytest process, on a private copy of tests/graded that
    matches tests/graded/SHA256SUMS byte for byte (a modified copy is refused, exit 2);
  - the student's functions run in a separate *worker* process (minigpt/sandbox.py): own session,
    resource limits, an unprivileged user id of its own when started as root, Landlock confinement
    (no write outside its temporary folder; solutions/ and the checks unreadable);
  - the checks send the inputs and compare the returned plain values (JSON + .npy, never pickle)
    with their reference; per-check results reach the grader over a pipe the worker cannot reach.
So a student function that loops forever, segfaults, exits, floods its output or forges files
costs only the checks that called it. Points come from `@pytest.mark.points(n)` (default 1).
Status per exercise: pass, fail (partial points), not attempted (every check hit the exercise's
NotImplementedError stub), timeout, crash, error (the checks could not run), skipped (e.g. no C++
compiler for the CUDA shim: decided by the trusted side only).

    minigpt grade                         # your exercises/ (MINIGPT_IMPL, default "exercises")
    minigpt grade --impl solutions        # the reference: must be full score
    minigpt grade --only 05.1 --verbose   # one exercise, every failed check in full
    minigpt grade --json grade.json       # also write the report ("--json" alone: JSON to stdout)
    minigpt grade --format gradescope --json results.json   # Gradescope's autograder results
    minigpt grade --junitxml grade.xml    # JUnit XML for CI systems

Exit status: 0 full score; 1 points missing (including "all exercises not attempted");
2 the grader itself could not run (bad arguments, graded checks not found or modified).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import select as _select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minigpt import course, coursefiles
from minigpt.kernels import emulate
from minigpt.sandbox import _processes_with
from minigpt.textcap import cap_lines

ROOT = Path(__file__).resolve().parents[1]
# a checkout (or a student release without solutions/), else the copy inside an installed wheel
DEFAULT_TESTS = next((d for d in (coursefiles.CHECKOUT / "tests" / "graded", coursefiles.INSTALLED / "tests" / "graded") if d.is_dir()),
                     coursefiles.CHECKOUT / "tests" / "graded")
DEFAULT_TIMEOUT = 120.0  # seconds per exercise (its whole pytest process)
DEFAULT_TEST_TIMEOUT = 20.0  # seconds per graded check


class GradeError(RuntimeError):
    """The grader cannot run at all (as opposed to a student's code failing)."""


# -----------------------------------------------------------------------------
# the graded checks: a verified private copy
MANIFEST = "SHA256SUMS"
SKIP_PARTS = {"__pycache__", "mutants", "alternatives", ".pytest_cache", ".hypothesis"}


def _graded_files(tests_dir: Path) -> list[str]:
    """Relative paths of the files that make up the graded checks (the mutants and the correct alternatives are not checks)."""
    out = []
    for p in sorted(tests_dir.rglob("*")):
        rel = p.relative_to(tests_dir)
        if p.is_dir() or SKIP_PARTS & set(rel.parts) or rel.as_posix() == MANIFEST or p.suffix == ".pyc":
            continue
        out.append(rel.as_posix())
    return out


def manifest_text(tests_dir: Path) -> str:
    """The SHA256SUMS text for tests_dir: `<sha256>  <path>` per graded file (tools/make_exercises.py writes it)."""
    return "".join(f"{hashlib.sha256((tests_dir / rel).read_bytes()).hexdigest()}  {rel}\n" for rel in _graded_files(tests_dir))


def pytest_ini() -> str:
    """The pytest configuration of the trusted copy: only the markers of the registry, nothing else."""
    lines = ["[pytest]", "python_files = test_graded_*.py", "markers ="]
    lines += [f"    {name}: {doc}" for name, doc in course.markers()]
    return "\n".join(lines) + "\n"


def trusted_copy(tests_dir: Path, dest: Path) -> Path:
    """Copy the graded checks into `dest`, verifying every copied byte against SHA256SUMS.

    Refuses (GradeError) a changed, missing or extra file: a modified tests/graded (a poisoned
    conftest.py, say) never runs. The copy lives in a private temporary folder that the
    sandboxed workers cannot read or write.
    """
    tests_dir = Path(tests_dir)
    if not tests_dir.is_dir():
        raise GradeError(f"graded checks not found at {tests_dir} (pass --tests DIR)")
    listed = {}
    manifest = tests_dir / MANIFEST
    if not manifest.is_file():
        raise GradeError(f"{manifest} is missing: the graded checks cannot be verified (instructors: python tools/make_exercises.py writes it)")
    for line in manifest.read_text().splitlines():
        if line.strip():
            digest, rel = line.split(None, 1)
            listed[rel.strip()] = digest
    present = _graded_files(tests_dir)
    extra = [rel for rel in present if rel not in listed]
    missing = [rel for rel in listed if rel not in present]
    problems = [f"{rel} is not in {MANIFEST}" for rel in extra] + [f"{rel} is missing" for rel in missing]
    dest.mkdir(parents=True, exist_ok=True)
    for rel in present:
        if rel not in listed:
            continue
        data = (tests_dir / rel).read_bytes()
        if hashlib.sha256(data).hexdigest() != listed[rel]:
            problems.append(f"{rel} differs from its checksum")
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if problems:
        raise GradeError(f"the graded checks in {tests_dir} were modified, so they are not run: " + "; ".join(problems)
                         + " (restore them, e.g. git checkout -- tests/graded; instructors who changed them on purpose: python tools/make_exercises.py)")
    (dest / "pytest.ini").write_text(pytest_ini())
    return dest


# -----------------------------------------------------------------------------
# running the trusted pytest in a subprocess
def _env(impl: str, impl_path: str | None, test_timeout: float, fd: int, expose: dict | None, shim_pch: Path | None = None,
         shrink: bool = True) -> dict:
    """A minimal environment: nothing of the caller's PYTHON*/PYTEST* settings reaches the trusted pytest."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CXX", "MINIGPT_DEVICE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONPATH"] = str(ROOT)  # the folder holding this minigpt (trusted code only runs here)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MINIGPT_IMPL"] = impl
    if impl_path:
        env["MINIGPT_IMPL_PATH"] = str(Path(impl_path).resolve())
    if expose:
        env["MINIGPT_GRADE_EXPOSE"] = os.pathsep.join(f"{k}={Path(v).resolve()}" for k, v in expose.items())
    env["MINIGPT_GRADE_FD"] = str(fd)
    env["MINIGPT_GRADE_TEST_TIMEOUT"] = f"{test_timeout:g}"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the checks need no plugins; saves ~3 s per process
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # exercises run in parallel: one BLAS thread each
    env["MPLBACKEND"] = "Agg"
    if shim_pch:
        env[emulate.PCH_ENV] = str(shim_pch)  # the workers compile CUDA-shim kernels against it
    if not shrink:
        env["MINIGPT_GRADE_SHRINK"] = "0"  # property checks stop at their first failing example
    return env


def _tail(path: Path, n: int = 4000) -> str:
    """The last n bytes of a file, read without loading the file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _run_pytest(args: list[str], impl: str, impl_path: str | None, test_timeout: float, timeout: float,
                checks: Path, workdir: Path, expose: dict | None = None, shim_pch: Path | None = None,
                shrink: bool = True) -> tuple[int | None, list[dict], str, float]:
    """Run the trusted pytest on the verified copy; returns (returncode or None on timeout, records, output tail, seconds).

    The run is forked from the copy's fork server when `verified_checks` started one (fast), else a
    fresh `python -m pytest` process; either way its own process in its own session.
    """
    log_path = workdir / "pytest.log"
    read_fd, write_fd = os.pipe()
    args = [*args, "-c", str(checks / "pytest.ini"), "--rootdir", str(checks), "-p", "no:cacheprovider", "-q", "--tb=short", "--no-header"]
    env = _env(impl, impl_path, test_timeout, write_fd, expose, shim_pch, shrink)
    server = _FORK_SERVERS.get(checks)
    start = time.perf_counter()
    records: list[dict] = []
    buf = b""
    proc = pid = None
    with open(log_path, "wb") as log:
        try:
            if server is not None:
                pid = server.run(args, env, checks, write_fd, log.fileno())
            else:
                proc = subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=checks, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(write_fd,))
                pid = proc.pid
        finally:
            os.close(write_fd)
        deadline = time.monotonic() + timeout
        timed_out = False
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:  # until every holder of the write end (the pytest run) has exited
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                ready, _, _ = _select.select([pipe], [], [], min(left, 1.0))
                if not ready:
                    continue
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                records += [json.loads(line) for line in lines if line.strip()]
        if timed_out:
            try:
                os.killpg(pid, signal.SIGKILL)  # the trusted pytest; its workers die with it (PDEATHSIG)
            except OSError:
                pass
        rc = proc.wait() if proc is not None else next((r["exit"] for r in records if "exit" in r), -1)
    _sweep_workers(records)
    seconds = time.perf_counter() - start
    return (None if timed_out else rc), records, _tail(log_path), seconds


# -----------------------------------------------------------------------------
# the fork server: pytest, hypothesis, NumPy and minigpt imported once, one fork per pytest run
_FORK_SERVERS: dict[Path, "ForkServer"] = {}


class ForkServer:
    r"""A trusted process that has imported what every graded pytest run needs, and forks one run per request.

    Each exercise is graded by its own pytest process (so a timeout kills exactly that exercise), and
    starting `python -m pytest` spends ~1.5 s on imports (pytest, hypothesis, NumPy, minigpt) before the
    first check runs: most of the time of a small exercise. Forking a process that already holds them
    costs milliseconds. Only trusted code ever runs in the server and its forks — the student's code
    runs in the sandboxed workers that a forked pytest starts, exactly as from a fresh process.
    Requests travel over a Unix socket with the run's two file descriptors (report pipe, log file)
    attached; the answer is the pid of the run, which calls setsid() and reports its exit status as
    the last line on the report pipe.
    """

    def __init__(self, env: dict):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lock = threading.Lock()
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", "import sys; from minigpt.grade import _fork_server_main; _fork_server_main(int(sys.argv[1]))",
                                          str(theirs.fileno())], pass_fds=(theirs.fileno(),), env=env, cwd=ROOT,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        try:
            hello = json.loads(self.sock.recv(1 << 16) or b"{}")
        except (OSError, ValueError):
            hello = {}
        if not hello.get("ready"):
            self.close()
            raise OSError(hello.get("error", "the fork server did not start"))

    def run(self, args: list[str], env: dict, cwd: Path, report_fd: int, log_fd: int) -> int:
        """Fork one `pytest args` run (environment env, working directory cwd); returns its pid."""
        with self.lock:
            socket.send_fds(self.sock, [json.dumps({"args": args, "env": env, "cwd": str(cwd)}).encode()], [report_fd, log_fd])
            answer = json.loads(self.sock.recv(1 << 16) or b"{}")
        if "pid" not in answer:
            raise GradeError(f"the fork server could not start a pytest run: {answer.get('error', 'no answer')}")
        return int(answer["pid"])

    def close(self) -> None:
        self.sock.close()  # the server exits on EOF
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _fork_server_main(fd: int) -> None:
    """The fork server's loop (in its own process): import once, then fork a pytest run per request."""
    sock = socket.socket(fileno=fd)
    try:  # what every graded run imports; a fork shares it for free
        import hypothesis.strategies  # noqa: F401
        import numpy  # noqa: F401
        import pytest  # noqa: F401
    except Exception as err:  # noqa: BLE001 - reported, the grader then starts plain pytest processes
        sock.send(json.dumps({"error": f"{type(err).__name__}: {err}"}).encode())
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the runs; their exit status travels on the report pipe
    sock.send(b'{"ready": true}')
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 2)
        except OSError:
            return
        if not msg:
            return  # the grader closed its end
        try:
            request = json.loads(msg)
            report_fd, log_fd = fds
            pid = os.fork()
        except Exception as err:  # noqa: BLE001
            for f in fds:
                os.close(f)
            sock.send(json.dumps({"error": f"{type(err).__name__}: {err}"}).encode())
            continue
        if pid == 0:
            sock.close()
            _forked_run(request, report_fd, log_fd)  # never returns
        os.close(report_fd)
        os.close(log_fd)
        sock.send(json.dumps({"pid": pid}).encode())


def _forked_run(request: dict, report_fd: int, log_fd: int) -> None:
    """In the forked child: become a pytest process of its own session, run, report the exit status, exit."""
    rc = 3  # pytest's "internal error"
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the checks wait for their workers
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["MINIGPT_GRADE_FD"] = str(report_fd)
        os.chdir(request["cwd"])
        import pytest

        rc = int(pytest.main(request["args"]))
    except BaseException:  # noqa: BLE001 - whatever happens, the grader gets an exit status
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        try:
            os.write(report_fd, (json.dumps({"exit": rc}) + "\n").encode())
        finally:
            os._exit(rc)


def _sweep_workers(records: list[dict]) -> None:
    """Kill whatever is left of the workers the trusted pytest started (it was killed, or they escaped)."""

    for r in records:
        if "worker" in r:
            for pid in _processes_with(r["worker"], r.get("uid")):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def collect(checks: Path) -> dict[str, dict]:
    """{nodeid: {name, marker, points, ...}} of every graded check in the verified copy (one --collect-only run)."""
    with tempfile.TemporaryDirectory(prefix="minigpt-grade-") as tmp:
        rc, records, tail, _ = _run_pytest([str(checks), "--collect-only", "-m", ""], "solutions", None, 0, 120, checks, Path(tmp))
    tests = {r["collected"]: {k: r[k] for k in ("name", "file", "marker", "points", "doc")} for r in records if "collected" in r}
    if rc != 0 or not tests:
        raise GradeError(f"could not collect the graded checks (pytest exit {rc}):\n{tail}")
    for t in tests.values():
        t.update(outcome="not run", message="", stub=None, kind=None)
    return tests


# -----------------------------------------------------------------------------
# one exercise
def _status(ex: course.Exercise, tests: list[dict], rc: int | None, timeout: float, tail: str) -> tuple[str, str]:
    counted = [t for t in tests if t["outcome"] != "skipped"]
    failed = [t for t in counted if t["outcome"] != "passed"]
    if not counted and tests and all(t["outcome"] == "skipped" for t in tests):
        return "skipped", tests[0]["message"] or "all checks skipped"
    if rc is None:
        return "timeout", f"stopped after {timeout:g} s; checks not finished count 0"
    if not tests or all(t["outcome"] == "not run" for t in tests):
        return "error", f"no graded checks ran (pytest exit {rc}):\n{tail[-1500:]}"
    if all(t["stub"] == ex.id for t in counted):
        return "not attempted", ""
    if not failed:
        return "pass", ""
    kinds = {t["kind"] for t in failed}
    n = f"{len(failed)} of {len(counted)} checks failed"
    if "crash" in kinds:  # a crash says more than a timeout (which may follow it on a busy machine)
        crash = next(t for t in failed if t["kind"] == "crash")
        return "crash", f"{n}; " + crash["message"].splitlines()[0]
    if "timeout" in kinds:
        return "timeout", f"{n}; a call ran past the time limit"
    if any(t["outcome"] == "not run" for t in failed):
        return "error", f"checks did not run (pytest exit {rc}):\n{tail[-1500:]}"
    others = sorted({t["stub"] for t in failed if t["stub"] and t["stub"] != ex.id})
    if others:
        n += f"; it calls exercise {', '.join(others)}, which is not done yet"
    return "fail", n


def needs_shim(ex: course.Exercise) -> bool:
    """True for an exercise whose student writes a CUDA kernel (a `.cu` beside its module), compiled with the CPU shim."""
    try:
        base = coursefiles.root()
    except FileNotFoundError:
        base = coursefiles.CHECKOUT
    return any((base / pkg / f"{ex.module}.cu").is_file() for pkg in ("exercises", "solutions"))


_PCH_LOCK = threading.Lock()
_PCH: list = []


def _shim_pch() -> Path | None:
    """The CUDA shim's precompiled header (built once per machine on this trusted side), or None."""
    with _PCH_LOCK:
        if not _PCH:
            try:
                _PCH.append(emulate.precompiled_header())
            except (OSError, RuntimeError):  # no private cache, no compiler: kernels compile the header themselves
                _PCH.append(None)
        return _PCH[0]


def run_exercise(ex: course.Exercise, impl: str, expected: dict[str, dict], checks: Path, impl_path: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, test_timeout: float = DEFAULT_TEST_TIMEOUT, expose: dict | None = None,
                 shrink: bool = True) -> dict:
    """Run the graded checks of one exercise (from the verified copy `checks`) against `impl`; returns its result record.

    shrink=False: property checks report their first failing example unshrunk (faster; the mutation self-test)."""
    mine = {nid: dict(t) for nid, t in expected.items() if t["marker"] == ex.marker}
    files = sorted({t["file"] for t in mine.values()}) or [str(checks)]
    with tempfile.TemporaryDirectory(prefix=f"minigpt-grade-{ex.id}-") as tmp:
        rc, records, tail, seconds = _run_pytest([*files, "-m", ex.marker], impl, impl_path, test_timeout, timeout, checks, Path(tmp), expose,
                                                 shim_pch=_shim_pch() if needs_shim(ex) else None, shrink=shrink)
    for r in records:
        nid = r.get("nodeid")
        if nid in mine and mine[nid]["outcome"] != "failed":  # keep the first failure (a teardown error must not hide it)
            mine[nid].update({k: r[k] for k in ("outcome", "message", "stub", "kind")})
    tests = list(mine.values())
    status, detail = _status(ex, tests, rc, timeout, tail) if tests else ("error", f"no graded checks carry the marker {ex.marker}")
    counted = [t for t in tests if t["outcome"] != "skipped"]
    return {
        "id": ex.id,
        "function": ex.function,
        "title": ex.title,
        "marker": ex.marker,
        "status": status,
        "points": sum(t["points"] for t in counted if t["outcome"] == "passed"),
        "max_points": sum(t["points"] for t in counted),
        "detail": detail,
        "duration_s": round(seconds, 2),
        "tests": [{k: t[k] for k in ("name", "points", "outcome", "message", "doc")} for t in tests],
    }


# -----------------------------------------------------------------------------
# all exercises
def select(only) -> list[course.Exercise]:
    if not only:
        return list(course.EXERCISES)
    chosen = []
    for key in only:
        match = [ex for ex in course.EXERCISES if key in (ex.id, ex.marker, ex.function)]
        if not match:
            raise GradeError(f"unknown exercise {key!r}; use an id like 05.1, a marker or a function name: "
                             + ", ".join(ex.id for ex in course.EXERCISES))
        chosen += [ex for ex in match if ex not in chosen]
    return chosen


def _check_importable(impl: str, impl_path: str | None) -> None:
    """Fail early (exit 2) on a misspelt implementation instead of failing every check."""
    top = impl.split(".")[0]
    search = [Path(impl_path).resolve()] if impl_path else [ROOT, Path.cwd(), coursefiles.INSTALLED]
    if not any((d / top).is_dir() or (d / f"{top}.py").is_file() for d in search):
        where = f" in {impl_path}" if impl_path else f" beside minigpt ({ROOT}) or in {Path.cwd()}"
        raise GradeError(f"cannot find the implementation package {impl!r}{where}; expected exercises, solutions or a package/module name (see --impl-path)")


@contextlib.contextmanager
def verified_checks(tests_dir: Path = DEFAULT_TESTS):
    """Yield (copy, expected): a verified private copy of the graded checks and what it collects.

    While the context is open, pytest runs on this copy are forked from a `ForkServer` (where one can start).
    """
    with tempfile.TemporaryDirectory(prefix="minigpt-checks-") as tmp:
        checks = trusted_copy(Path(tests_dir), Path(tmp) / "graded")
        try:
            server = ForkServer(_env("solutions", None, DEFAULT_TEST_TIMEOUT, -1, None))
        except OSError:
            server = None  # no fork server: each run is a fresh `python -m pytest` process
        if server is not None:
            _FORK_SERVERS[checks] = server
        try:
            yield checks, collect(checks)
        finally:
            if server is not None:
                _FORK_SERVERS.pop(checks, None)
                server.close()


def grade(impl: str | None = None, only=None, impl_path: str | None = None, jobs: int = 2,
          timeout: float = DEFAULT_TIMEOUT, test_timeout: float = DEFAULT_TEST_TIMEOUT,
          tests_dir: Path = DEFAULT_TESTS) -> dict:
    """Grade the chosen exercises of implementation `impl`; returns the JSON-ready report."""
    impl = impl or course.impl_name()
    impl_path = impl_path or os.environ.get("MINIGPT_IMPL_PATH") or None
    start = time.perf_counter()
    exercises = select(only)
    _check_importable(impl, impl_path)
    with verified_checks(tests_dir) as (checks, expected):
        longest_first = sorted(exercises, key=lambda ex: not needs_shim(ex))  # a kernel exercise takes longest: start it first
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = dict(zip(longest_first, pool.map(lambda ex: run_exercise(ex, impl, expected, checks, impl_path, timeout, test_timeout), longest_first)))
        results = [done[ex] for ex in exercises]
    score = sum(r["points"] for r in results)
    max_score = sum(r["max_points"] for r in results)
    graded = [r for r in results if r["status"] != "skipped"]
    return {
        "impl": impl,
        "impl_path": str(Path(impl_path).resolve()) if impl_path else None,
        "score": score,
        "max_score": max_score,
        "full_score": score == max_score and all(r["status"] in ("pass", "skipped") for r in results),
        "all_not_attempted": bool(graded) and all(r["status"] == "not attempted" for r in graded),
        "counts": {s: sum(r["status"] == s for r in results) for s in ("pass", "fail", "not attempted", "timeout", "crash", "error", "skipped")},
        "duration_s": round(time.perf_counter() - start, 2),
        "exercises": results,
    }


def _num(x: float) -> str:
    return f"{x:g}"


def summary_line(report: dict) -> str:
    score, top = _num(report["score"]), _num(report["max_score"])
    if report["full_score"]:
        return f"{score}/{top} points: full score"
    if report["all_not_attempted"]:
        return f"{score}/{top} points: all {len(report['exercises'])} exercises not attempted"
    parts = [f"{n} {s}" for s, n in report["counts"].items() if n]
    return f"{score}/{top} points: " + ", ".join(parts)


def rerun_command(report: dict, ex_id: str) -> str:
    """The exact command that grades one exercise again, printing every failed check in full."""
    cmd = f"minigpt grade --only {ex_id} --verbose"
    if report["impl"] != course.DEFAULT_IMPL:
        cmd += f" --impl {report['impl']}"
    if report.get("impl_path"):
        cmd += f" --impl-path {report['impl_path']}"
    return cmd


def _indent(text: str, pad: str) -> list[str]:
    return [pad + line for line in text.splitlines()]


def format_table(report: dict, verbose: bool = False) -> str:
    """The score table; each failing exercise shows its first failed check in full (all of them with verbose)."""
    lines = [f"minigpt grade: implementation {report['impl']!r}", "", f"  {'ex':<5} {'function':<22} {'points':>7}  status"]
    pad = " " * 9
    first_failing = None
    for r in report["exercises"]:
        pts = f"{_num(r['points'])}/{_num(r['max_points'])}"
        lines.append(f"  {r['id']:<5} {r['function']:<22} {pts:>7}  {r['status']}")
        if r["status"] in ("pass", "not attempted", "skipped"):
            continue
        first_failing = first_failing or r["id"]
        if r["detail"]:
            lines += _indent(cap_lines(r["detail"], 600), pad)
        failed = [t for t in r["tests"] if t["outcome"] == "failed"]
        for i, t in enumerate(failed):
            head = f"x {t['name']} ({_num(t['points'])} pt)" + (f": {t['doc']}" if t.get("doc") else "")
            lines.append(pad + head)
            if verbose or i == 0:
                lines += _indent(t["message"] if verbose else cap_lines(t["message"], 1500), pad + "    ")
    lines += ["", f"  {'total':<28} {_num(report['score']) + '/' + _num(report['max_score']):>7}", "",
              summary_line(report) + f"   ({report['duration_s']:.1f} s)"]
    if first_failing and not verbose:
        lines += ["", "To see every failed check of one exercise in full, run e.g.", f"  {rerun_command(report, first_failing)}"]
    return "\n".join(lines)


def _write_atomic(path: str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, target)


def write_json(report: dict, path: str) -> None:
    _write_atomic(path, json.dumps(report, indent=1))


def gradescope(report: dict) -> dict:
    """The report in Gradescope's autograder format (results.json): one test per exercise."""
    tests = []
    for r in report["exercises"]:
        failed = [t for t in r["tests"] if t["outcome"] == "failed"]
        out = [f"{r['status']}" + (f": {r['detail']}" if r["detail"] else "")]
        for t in failed:
            out += [f"x {t['name']} ({_num(t['points'])} pt)", cap_lines(t["message"], 3000)]
        tests.append({"name": f"{r['id']} {r['function']}: {r['title']}", "score": r["points"], "max_score": r["max_points"],
                      "status": "passed" if r["status"] == "pass" else "failed", "output": "\n".join(out)})
    return {"score": report["score"], "execution_time": report["duration_s"], "output": summary_line(report), "tests": tests}


def junit_xml(report: dict) -> str:
    """The report as JUnit XML (one testsuite per exercise, one testcase per check) for CI systems."""
    from xml.etree import ElementTree as ET

    root = ET.Element("testsuites", name="minigpt grade", tests=str(sum(len(r["tests"]) for r in report["exercises"])),
                      time=f"{report['duration_s']:.2f}")
    for r in report["exercises"]:
        failures = sum(t["outcome"] == "failed" for t in r["tests"])
        suite = ET.SubElement(root, "testsuite", name=f"{r['id']} {r['function']}", tests=str(len(r["tests"])),
                              failures=str(failures), skipped=str(sum(t["outcome"] == "skipped" for t in r["tests"])),
                              time=f"{r['duration_s']:.2f}")
        for t in r["tests"]:
            case = ET.SubElement(suite, "testcase", classname=r["marker"], name=t["name"])
            if t["outcome"] == "failed":
                ET.SubElement(case, "failure", message=next((ln for ln in t["message"].splitlines() if ln.strip()), "")[:200]).text = t["message"]
            elif t["outcome"] == "skipped":
                ET.SubElement(case, "skipped", message=t["message"][:200])
            elif t["outcome"] != "passed":
                ET.SubElement(case, "error", message=t["outcome"]).text = t["message"]
    return ET.tostring(root, encoding="unicode")


# -----------------------------------------------------------------------------
# CLI
def _positive(kind):
    """An argparse type: `kind(text)`, which must be > 0 ('--timeout 0' would fail every exercise)."""
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def add_cli_args(parser) -> None:
    parser.add_argument("--impl", default=None, help="exercises | solutions | a package name (default: $MINIGPT_IMPL or exercises)")
    parser.add_argument("--impl-path", default=None, help="directory put first on sys.path to find --impl")
    parser.add_argument("--only", nargs="+", default=None, metavar="EX", help="exercise ids (05.1), markers or function names")
    parser.add_argument("--jobs", type=_positive(int), default=2, help="exercises graded in parallel (default 2)")
    parser.add_argument("--timeout", type=_positive(float), default=DEFAULT_TIMEOUT, help="seconds per exercise (default %(default)g)")
    parser.add_argument("--test-timeout", type=_positive(float), default=DEFAULT_TEST_TIMEOUT, help="seconds per check (default %(default)g)")
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                        help="write the report as JSON to PATH; without PATH print JSON instead of the table")
    parser.add_argument("--format", choices=["minigpt", "gradescope"], default="minigpt",
                        help="layout of --json: minigpt's report, or Gradescope's autograder results.json")
    parser.add_argument("--junitxml", default=None, metavar="PATH", help="also write JUnit XML (one testcase per check) for CI systems")
    parser.add_argument("--verbose", "-v", action="store_true", help="show every failed check in full")
    parser.add_argument("--tests", default=str(DEFAULT_TESTS), help="folder of graded checks (default: tests/graded)")


def cli_main(args) -> int:
    try:
        report = grade(impl=args.impl, only=args.only, impl_path=args.impl_path, jobs=args.jobs,
                       timeout=args.timeout, test_timeout=args.test_timeout, tests_dir=Path(args.tests))
    except GradeError as err:
        print(f"minigpt grade: {err}", file=sys.stderr)
        return 2
    out = gradescope(report) if args.format == "gradescope" else report
    if args.json == "-":
        print(json.dumps(out, indent=1))
    else:
        print(format_table(report, verbose=args.verbose))
        if args.json:
            write_json(out, args.json)
            print(f"report written to {args.json}" + (" (Gradescope format)" if args.format == "gradescope" else ""))
    if args.junitxml:
        _write_atomic(args.junitxml, junit_xml(report))
    return 0 if report["full_score"] else 1
