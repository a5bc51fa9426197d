r"""The trusted side of the grading sandbox: start a locked-in worker, call student functions in it.

    from minigpt.sandbox import Worker
    with Worker("exercises", path="/home/me/course") as w:
        loss, grad = w.call("ex05_pretraining", "cross_entropy", logits, targets)

The student's code never runs in this process. `Worker` starts `sandbox_worker.py` in a fresh
session, with resource limits, an unprivileged identity and Landlock confinement (see that file),
sends each call's arguments as JSON + `.npy` bytes and decodes the returned values the same way:
a crash, an endless loop, `exit()`, a flood of output or a forged file costs that call, nothing
more. The comparison with the reference — the verdict — happens in the caller (the graded checks).

Only the implementation being graded is importable in the worker: its folder, the installed
minigpt (without the folder that holds it, so never `solutions/` beside it) and the Python
installation. A call that outlives `timeout` seconds kills the worker and its whole process tree
(its own session, then every process that still carries the worker's token or user id); the
next call starts a fresh worker.
"""
from __future__ import annotations

import builtins
import os
import secrets
import select
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minigpt import sandbox_worker as wire

WORKER_SCRIPT = Path(wire.__file__).resolve()
MINIGPT_DIR = WORKER_SCRIPT.parent
UID_BASE = 2_000_000_000  # + the worker's pid: a user id of its own (when started as root)
OUTPUT_TAIL = 2000  # characters of the student's output shown with a crash
SHIM_PCH_ENV = "MINIGPT_SHIM_PCH"  # minigpt.kernels.emulate.PCH_ENV: passed on to the worker (read-only)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker (and everything it starts)."""

    memory_bytes: int = 6 << 30  # RLIMIT_AS: address space
    cpu_seconds: int = 300  # RLIMIT_CPU: total CPU time of the worker process
    file_bytes: int = 64 << 20  # RLIMIT_FSIZE: largest file it may write (its output file too)
    processes: int = 512  # RLIMIT_NPROC: processes + threads of its own user id (the CUDA shim runs a thread per CUDA thread)
    open_files: int = 256  # RLIMIT_NOFILE


class WorkerError(Exception):
    """The student's code could not return a value: it crashed, hung, or the sandbox failed."""

    kind = "error"


class WorkerCrashed(WorkerError):
    kind = "crash"


class WorkerTimeout(WorkerError):
    kind = "timeout"


class StudentException(Exception):
    """An exception raised by the student's code whose class is not a Python builtin (its name is kept)."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


def _rebuild_exception(err: dict) -> BaseException:
    """The student's exception as an object of this side: builtin classes by name, others as StudentException."""
    name, message = str(err.get("type", "Exception")), str(err.get("message", ""))
    cls = getattr(builtins, name, None) if err.get("builtin") else None
    if name in ("SystemExit", "KeyboardInterrupt", "GeneratorExit"):
        exc: BaseException = WorkerError(f"the function raised {name}({message}) (it must return a value, not exit)")
    elif isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs 5 arguments
            exc = StudentException(name, message)
    else:
        exc = StudentException(name, message)
    if err.get("traceback"):
        exc.add_note("in the student's code:\n" + str(err["traceback"]).rstrip())
    exc.minigpt_stage = str(err.get("stage", "call"))  # "resolve": the function could not even be imported
    return exc


# -----------------------------------------------------------------------------
def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def allow_except(roots: list, denied: list) -> list[str]:
    """Expand `roots` so that no entry contains a `denied` path: a root holding one is replaced by its
    other children (recursively down to the denied path). Landlock rules only ever add access."""
    denied = [Path(os.path.realpath(d)) for d in denied if os.path.exists(d)]
    out: list[str] = []

    def add(root: Path):
        if any(root == d for d in denied):
            return
        if not any(_inside(d, root) for d in denied):
            out.append(str(root))
            return
        try:
            children = sorted(root.iterdir())
        except OSError:
            return
        for child in children:
            add(Path(os.path.realpath(child)) if child.is_symlink() else child)

    for r in roots:
        if os.path.exists(r):
            add(Path(os.path.realpath(r)))
    return sorted(set(out))


def _site_dirs() -> list[str]:
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    for key in ("purelib", "platlib"):
        dirs.append(sysconfig.get_paths()[key])
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        dirs.append(site.getusersitepackages())
    seen, out = set(), []
    for d in dirs:
        if d and os.path.isdir(d) and d not in seen:
            seen.add(d)
            out.append(d)
    return out


def _shim_pch() -> list[str]:
    """[the folder of the precompiled CUDA shim header] when the trusted side set $MINIGPT_SHIM_PCH, else []."""
    d = os.environ.get(SHIM_PCH_ENV, "")
    return [os.path.realpath(d)] if d and os.path.isdir(d) else []


def _own_tasks() -> int:
    """Processes + threads of this user id right now (RLIMIT_NPROC counts them all)."""
    uid, n = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return n


def _processes_with(token: str, uid: int | None) -> list[int]:
    """Pids carrying the worker's token in their environment, or running as its user id."""
    found, me = [], os.getpid()
    needle = f"MINIGPT_SANDBOX_ID={token}".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if uid is not None and entry.stat().st_uid == uid:
                found.append(int(entry.name))
                continue
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle in f.read(1 << 16):
                    found.append(int(entry.name))
        except OSError:
            pass
    return found


# -----------------------------------------------------------------------------
class Worker:
    r"""One sandboxed worker process serving calls into the implementation package `package`.

    package: top-level name to import ("exercises", "solutions", a student's package or module).
    path: folder that holds it (default: beside the installed minigpt, or the current directory).
    expose: extra {name: folder} importable in the worker (the mutation self-test exposes
        solutions/ to its mutants; never used for a student).
    """

    def __init__(self, package: str, path: str | os.PathLike | None = None, limits: Limits = Limits(),
                 expose: dict | None = None, startup_timeout: float = 60.0):
        self.package = package
        self.path = Path(path).resolve() if path else None
        self.limits = limits
        self.expose = {k: Path(v).resolve() for k, v in (expose or {}).items()}
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.applied: list[str] = []
        self._tmp: Path | None = None

    # ---- where things are
    def source_dir(self) -> Path:
        """The folder holding the implementation package or module."""
        if self.path:
            return self.path
        for base in (MINIGPT_DIR.parent, Path.cwd(), MINIGPT_DIR / "_course"):  # checkout, here, the wheel's copy
            if (base / self.package).is_dir() or (base / f"{self.package}.py").is_file():
                return base
        raise WorkerError(f"cannot find the implementation {self.package!r} beside minigpt or in {Path.cwd()}")

    def _layout(self, tmp: Path) -> tuple[list[str], list[str], list[str]]:
        """(sys.path, readable roots, writable roots) of the worker; creates tmp/lib with symlinks."""
        lib = tmp / "lib"
        lib.mkdir()
        src = self.source_dir()
        (lib / "minigpt").symlink_to(MINIGPT_DIR, target_is_directory=True)
        for name, folder in self.expose.items():
            (lib / name).symlink_to(folder, target_is_directory=folder.is_dir())
        holds_solutions = (src / "solutions").exists() and self.package != "solutions"
        if self.path and not holds_solutions:
            impl_roots = [src]  # a student's folder or the mutants: siblings stay importable
            first = [str(src)]
        else:  # only the package itself, never the folder around it (a repository root)
            target = src / self.package if (src / self.package).is_dir() else src / f"{self.package}.py"
            (lib / target.name).symlink_to(target, target_is_directory=target.is_dir())
            impl_roots = [target]
            first = []
        std = [p for p in sys.path if p and os.path.isdir(p) and not p.endswith("site-packages") and
               any(_inside(Path(p), Path(pre)) for pre in {sys.base_prefix, sys.base_exec_prefix}) and "site-packages" not in p]
        sys_path = first + [str(lib)] + std + _site_dirs()
        denied = [] if self.package == "solutions" or "solutions" in self.expose else [MINIGPT_DIR.parent / "solutions", MINIGPT_DIR / "_course" / "solutions"]
        denied += [os.path.join(d, "solutions") for d in _site_dirs() if "solutions" not in self.expose]
        pch = _shim_pch()
        system = ["/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev/urandom", "/dev/random", "/dev/zero"]
        roots = [sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                 str(MINIGPT_DIR), *map(str, impl_roots), *map(str, self.expose.values()), *_site_dirs(), *system, *pch]
        read = allow_except(roots, denied)
        write = [str(tmp), "/dev/null"]
        return sys_path, read, write

    # ---- lifecycle
    def start(self) -> None:
        if self.proc is not None:
            return
        tmp = Path(tempfile.mkdtemp(prefix="minigpt-worker-"))
        self._tmp = tmp
        self.token = secrets.token_hex(8)
        sys_path, read, write = self._layout(tmp)
        (tmp / "shim").mkdir(mode=0o700)
        out_path = tmp / "output.log"
        out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        self._out = open(out_path, "rb", buffering=0)  # our own handle: renaming the file cannot redirect it
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp), "TMPDIR": str(tmp), "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
            "MINIGPT_SHIM_CACHE": str(tmp / "shim"), "MINIGPT_SANDBOX_ID": self.token, "MINIGPT_IMPL": self.package,
        }
        if os.environ.get("CXX"):
            env["CXX"] = os.environ["CXX"]
        for pch in _shim_pch():  # the CUDA shim's header, precompiled on the trusted side: read-only in the worker
            env[SHIM_PCH_ENV] = pch
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(WORKER_SCRIPT), str(req_r), str(ans_w)],
                stdin=subprocess.DEVNULL, stdout=out_fd, stderr=out_fd, pass_fds=(req_r, ans_w), cwd=tmp, env=env,
                start_new_session=True, close_fds=True)
        finally:
            os.close(req_r)
            os.close(ans_w)
            os.close(out_fd)
        self._req, self._ans = req_w, ans_r
        root = os.geteuid() == 0
        self.uid = UID_BASE + self.proc.pid if root else None
        if self.uid is not None:
            for p in [tmp, tmp / "shim"]:
                os.chown(p, self.uid, self.uid)
        nproc = self.limits.processes if root else _own_tasks() + self.limits.processes
        config = {
            "package": self.package, "sys_path": sys_path, "cwd": str(tmp), "read": read, "write": write,
            "uid": self.uid, "gid": self.uid,
            "limits": {"as": self.limits.memory_bytes, "cpu": self.limits.cpu_seconds, "fsize": self.limits.file_bytes,
                       "nofile": self.limits.open_files, "core": 0, "nproc": nproc},
        }
        try:
            wire.write_all(self._req, wire.pack({"config": config}, []))
            status, _ = self._read_answer(self.startup_timeout, "starting the worker")
        except WorkerError:
            self.close()
            raise
        if not status.get("ready"):
            self.close()
            raise WorkerError(status.get("message", "the worker did not start"))
        self.applied = list(status.get("applied", []))

    def output_tail(self, n: int = OUTPUT_TAIL) -> str:
        """The last n characters the student's code printed (bounded read, whatever the file's size)."""
        try:
            size = os.fstat(self._out.fileno()).st_size
            data = os.pread(self._out.fileno(), min(size, 4 * n), max(0, size - 4 * n))
        except (OSError, AttributeError, ValueError):
            return ""
        text = data.decode("utf-8", "replace")
        return text[-n:]

    def _kill_tree(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if self.uid is not None:  # everything running as the worker's own user id, in one atomic kill(-1)
            subprocess.run(["kill", "-9", "-1"], user=self.uid, group=self.uid, extra_groups=[],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for _ in range(20):  # setsid escapees: by token (and user id)
            left = _processes_with(self.token, self.uid)
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def close(self) -> None:
        """Kill the worker and everything it started; remove its temporary directory."""
        if self.proc is not None:
            self._kill_tree()
        for fd in (getattr(self, "_req", None), getattr(self, "_ans", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._req = self._ans = None
        if getattr(self, "_out", None) is not None:
            self._out.close()
            self._out = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- calls
    def _died(self, what: str) -> WorkerCrashed:
        proc = self.proc
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            hint = {"SIGXCPU": " (its CPU-time limit)", "SIGXFSZ": " (its file-size limit, which its printed output counts against)"}.get(name, "")
            why = f"died from {name}{hint}"
        else:
            why = f"exited with status {rc}"
        tail = self.output_tail()
        self.close()
        msg = f"the student process {why} while {what}"
        if tail.strip():
            msg += f"\nits last output:\n{tail}"
        return WorkerCrashed(msg)

    def _read_answer(self, timeout: float, what: str) -> tuple[dict, list]:
        deadline = time.monotonic() + timeout
        buf = bytearray()
        need = 8
        size = None
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise WorkerTimeout(f"{what} took longer than {timeout:g} s, the limit per call")
            ready, _, _ = select.select([self._ans], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._ans, min(need - len(buf), 1 << 20))
            if not chunk:
                raise self._died(what)
            buf += chunk
            if size is None and len(buf) >= 8:
                size = int.from_bytes(buf[:8], "big")
                if size > wire.MAX_FRAME:
                    self.close()
                    raise WorkerError(f"{what}: the answer is {size} bytes, over the {wire.MAX_FRAME}-byte limit")
                need = 8 + size
        try:
            return wire.unpack(bytes(buf[8:]))
        except (wire.ProtocolError, ValueError) as err:
            self.close()
            raise WorkerError(f"{what}: malformed answer ({err})") from None

    def call(self, module: str, function: str, *args, timeout: float = 60.0, **kwargs):
        """function(*args, **kwargs) in the worker; returns the decoded result. In-place changes to
        list, dict and array arguments are copied back into the caller's objects."""
        what = f"running {function}()"
        blobs: list = []
        header = {"op": "call", "module": module, "function": function,
                  "args": wire.encode(list(args), blobs), "kwargs": wire.encode(dict(kwargs), blobs)}
        frame = wire.pack(header, blobs)
        self.start()
        try:
            wire.write_all(self._req, frame)
        except (BrokenPipeError, OSError):
            raise self._died(what) from None
        answer, out = self._read_answer(timeout, what)
        if "error" in answer:
            raise _rebuild_exception(answer["error"])
        try:
            for i, node in answer.get("mutated", {}).items():
                _copy_back(args[int(i)], wire.decode(node, out), int(i), function)
            return wire.decode(answer["result"], out, list(args))
        except (wire.ProtocolError, KeyError, IndexError, ValueError) as err:
            raise WorkerError(f"{what}: could not read the returned value ({err})") from None


def _copy_back(original, new, index: int, function: str) -> None:
    """Make the caller's argument look as the function left it (dict/list/array mutated in place)."""
    if isinstance(original, dict) and isinstance(new, dict):
        original.clear()
        original.update(new)
    elif isinstance(original, list) and isinstance(new, list):
        original[:] = new
    elif isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
        if new.shape != original.shape:
            raise ValueError(f"{function}() changed the shape of argument {index} in place")
        original[...] = new
