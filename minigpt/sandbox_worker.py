r"""The student side of `minigpt grade`: a worker process that calls the student's functions, sandboxed.

Started by `minigpt.sandbox.Worker` as `python -I -S sandbox_worker.py` (no site-packages hooks, no
PYTHONPATH, no current directory on sys.path) with two pipes (their fd numbers in argv): requests
come in on one, answers go out on the other; the student's stdout and stderr go to a size-capped file. Before it imports any
student code the worker locks itself in (each step only where the platform offers it):

  1. resource limits: address space, CPU seconds, file size, open files, no core dumps;
  2. an unprivileged identity: started as root it switches to a user id of its own (so
     RLIMIT_NPROC bounds its process tree and it can signal nothing else), keeping at most the
     right to *read* files (CAP_DAC_READ_SEARCH), which step 3 then confines;
  3. Landlock (Linux >= 5.13): read access only to the Python installation, the installed
     minigpt, the student's folder and system directories — never `solutions/` unless that is
     what is graded — write access only to its own temporary directory, no TCP, and (ABI >= 6)
     no signals or abstract sockets outside its own sandbox;
  4. seccomp: open_by_handle_at is refused (it would bypass the path rules of step 3).
The worker then answers "call" requests: decode the arguments, call the student's function,
encode the result. Nothing here decides a score: the trusted side compares the returned values.

The wire format is the same in both directions, and never pickle: a frame is an 8-byte length,
then a 4-byte header length, a JSON header, and the raw `.npy` bytes of every array in it
(`np.load(..., allow_pickle=False)`). Plain values travel as JSON; tuples, dicts with any
hashable keys, NumPy arrays and NumPy scalars as tagged nodes.

This file imports only the standard library and NumPy, so that it can start with nothing else
on sys.path.
"""
from __future__ import annotations

import ctypes
import io
import json
import os
import platform
import struct
import sys
import traceback

try:
    import numpy as np
except ImportError:  # the worker starts with -S: main() imports NumPy once sys.path is set
    np = None

MAX_FRAME = 1 << 30  # 1 GiB: any larger frame is refused, whoever sends it
MAX_TEXT = 4000  # characters of an exception message or traceback that travel back
MAX_DEPTH = 64


class ProtocolError(ValueError):
    """A frame or value that this protocol does not accept."""


# -----------------------------------------------------------------------------
# values <-> JSON + npy blobs
def encode(value, blobs: list, same: dict | None = None, depth: int = 0):
    """A JSON-ready tree for `value`; arrays are appended to `blobs` as .npy bytes.

    `same` maps id(obj) -> argument index: a value that *is* one of the call's arguments is sent
    as a reference to it, so `f(d) is d` and in-place updates keep their meaning on the other side.
    """
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if same and id(value) in same and isinstance(value, (list, dict, np.ndarray)):
        return {"t": "arg", "i": same[id(value)]}
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.hasobject or arr.dtype.kind not in "biufcSU" or arr.dtype.fields is not None:
            raise ProtocolError(f"arrays of dtype {arr.dtype} cannot be sent")
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr) if arr.ndim else arr, allow_pickle=False)
        blobs.append(buf.getvalue())
        return {"t": "scalar" if isinstance(value, np.generic) else "nd", "i": len(blobs) - 1}
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else {"t": "bigint", "v": str(value)}
    if type(value) is float:
        return {"t": "float", "v": float.__repr__(value)}  # repr keeps every bit, and nan/inf
    if isinstance(value, (bool, int, float, str)):  # subclasses (np.float64 is handled above): the plain value
        return encode(bool(value) if isinstance(value, bool) else int(value) if isinstance(value, int)
                      else float(value) if isinstance(value, float) else str(value), blobs, None, depth + 1)
    if isinstance(value, (list, tuple)):
        items = [encode(v, blobs, same, depth + 1) for v in value]
        return {"t": "tuple", "v": items} if isinstance(value, tuple) else {"t": "list", "v": items}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k, blobs, same, depth + 1), encode(v, blobs, same, depth + 1)] for k, v in value.items()]}
    raise ProtocolError(f"a value of type {type(value).__name__} cannot be sent (use numbers, strings, lists, tuples, dicts or NumPy arrays)")


def decode(node, blobs: list, args: list | None = None, depth: int = 0):
    """Inverse of `encode`; `args` resolves {"t": "arg"} references."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if node is None or isinstance(node, (bool, str, int)):
        return node
    if isinstance(node, float):
        return node
    if not isinstance(node, dict) or "t" not in node:
        raise ProtocolError(f"malformed value node {str(node)[:80]!r}")
    tag = node["t"]
    if tag == "float":
        return float(node["v"])
    if tag == "bigint":
        return int(node["v"])
    if tag in ("nd", "scalar"):
        arr = np.load(io.BytesIO(blobs[int(node["i"])]), allow_pickle=False)
        return arr[()] if tag == "scalar" else arr
    if tag == "list":
        return [decode(v, blobs, args, depth + 1) for v in node["v"]]
    if tag == "tuple":
        return tuple(decode(v, blobs, args, depth + 1) for v in node["v"])
    if tag == "dict":
        out = {}
        for k, v in node["v"]:
            key = decode(k, blobs, args, depth + 1)
            try:
                out[key] = decode(v, blobs, args, depth + 1)
            except TypeError as err:
                raise ProtocolError(f"unhashable dict key {type(key).__name__}") from err
        return out
    if tag == "arg":
        if args is None:
            raise ProtocolError("argument reference outside a call")
        return args[int(node["i"])]
    raise ProtocolError(f"unknown value tag {tag!r}")


# -----------------------------------------------------------------------------
# frames
def pack(header: dict, blobs: list) -> bytes:
    head = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode()
    body = struct.pack(">I", len(head)) + head + b"".join(blobs)
    return struct.pack(">Q", len(body)) + body


def unpack(body: bytes) -> tuple[dict, list]:
    if len(body) < 4:
        raise ProtocolError("short frame")
    (n,) = struct.unpack(">I", body[:4])
    header = json.loads(body[4:4 + n])
    if not isinstance(header, dict):
        raise ProtocolError("frame header is not an object")
    blobs, pos = [], 4 + n
    for size in header.get("blobs", []):
        size = int(size)
        if size < 0 or pos + size > len(body):
            raise ProtocolError("frame shorter than its header says")
        blobs.append(body[pos:pos + size])
        pos += size
    return header, blobs


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> tuple[dict, list]:
    (size,) = struct.unpack(">Q", _read_exact(fd, 8))
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes is over the limit")
    return unpack(_read_exact(fd, size))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# -----------------------------------------------------------------------------
# locking the process in (Linux; every step is skipped where unavailable and reported)
_libc = None


def _syscall(*args) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long
    return _libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])


def _prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _syscall(157, option, arg2, arg3, arg4, arg5)  # SYS_prctl on x86_64


def set_limits(limits: dict) -> None:
    import resource

    names = {"as": "RLIMIT_AS", "cpu": "RLIMIT_CPU", "fsize": "RLIMIT_FSIZE", "nofile": "RLIMIT_NOFILE", "core": "RLIMIT_CORE", "nproc": "RLIMIT_NPROC"}
    for key, value in limits.items():
        if value is None or not hasattr(resource, names[key]):
            continue
        which = getattr(resource, names[key])
        soft = int(value)
        hard = soft + 5 if key == "cpu" else soft  # SIGXCPU at the soft limit, SIGKILL 5 s later
        _, old_hard = resource.getrlimit(which)
        if old_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, old_hard), min(hard, old_hard)
        resource.setrlimit(which, (soft, hard))


CAP_DAC_READ_SEARCH = 2


def drop_privileges(uid: int, gid: int, keep_read: bool) -> None:
    """root -> `uid`, keeping only CAP_DAC_READ_SEARCH when `keep_read` (Landlock then bounds what it reads)."""
    if keep_read:
        _prctl(8, 1)  # PR_SET_KEEPCAPS: setuid keeps the permitted set
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if keep_read:
        _prctl(8, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        bit = 1 << CAP_DAC_READ_SEARCH
        data = (ctypes.c_uint32 * 6)(bit, bit, bit, 0, 0, 0)  # effective, permitted, inheritable (x2 words)
        if _syscall(126, ctypes.byref(header), ctypes.byref(data)) != 0:  # SYS_capset
            raise OSError(ctypes.get_errno(), "capset failed")
        _prctl(47, 2, CAP_DAC_READ_SEARCH)  # PR_CAP_AMBIENT_RAISE: the compiler it runs may read too


# Landlock access rights (linux/landlock.h)
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_WRITE_DIR = sum(1 << b for b in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV


def landlock_abi() -> int:
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        return 0
    abi = _syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(abi), 0)


def landlock(read: list, write: list, abi: int) -> None:
    """Confine this process (and everything it starts) to reading `read` and writing `write`."""
    handled = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_WRITE_DIR
    if abi >= 2:
        handled |= FS_REFER
    if abi >= 3:
        handled |= FS_TRUNCATE
    if abi >= 5:
        handled |= FS_IOCTL_DEV
    attr = (ctypes.c_uint64 * 3)(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)  # fs, tcp bind+connect, scopes
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(444, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    read_rights = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
    write_rights = handled & ~FS_EXECUTE
    try:
        for paths, rights in ((read, read_rights), (write, write_rights)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a system directory this machine does not have
                try:
                    allowed = rights & handled
                    if not os.path.isdir(path):
                        allowed &= FILE_RIGHTS
                    rule = struct.pack("=Qi", allowed, fd)  # struct landlock_path_beneath_attr (packed)
                    buf = ctypes.create_string_buffer(rule, len(rule))
                    if _syscall(445, ruleset, 1, buf, 0) != 0:  # LANDLOCK_RULE_PATH_BENEATH
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(fd)
        _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS
        if _syscall(446, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


def seccomp_deny_open_by_handle() -> None:
    """A 6-instruction BPF filter: open_by_handle_at (and the x32 syscall range) fail with EPERM."""
    def ins(code, jt, jf, k):
        return struct.pack("=HBBI", code, jt, jf, k)

    prog = b"".join([
        ins(0x20, 0, 0, 4),  # ld arch
        ins(0x15, 1, 0, 0xC000003E),  # jeq AUDIT_ARCH_X86_64 ? skip 1 : next
        ins(0x06, 0, 0, 0x00050001),  # ret ERRNO(EPERM): another architecture
        ins(0x20, 0, 0, 0),  # ld syscall nr
        ins(0x35, 2, 0, 0x40000000),  # jge x32 range -> deny
        ins(0x15, 1, 0, 304),  # jeq open_by_handle_at -> deny
        ins(0x06, 0, 0, 0x7FFF0000),  # ret ALLOW
        ins(0x06, 0, 0, 0x00050001),  # ret ERRNO(EPERM)
    ])
    filt = ctypes.create_string_buffer(prog, len(prog))
    fprog = struct.pack("=HxxxxxxQ", len(prog) // 8, ctypes.addressof(filt))
    fbuf = ctypes.create_string_buffer(fprog, len(fprog))
    _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS
    if _prctl(22, 2, ctypes.addressof(fbuf)) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        raise OSError(ctypes.get_errno(), "seccomp failed")


def lock_in(config: dict) -> list[str]:
    """Apply limits, identity and filesystem confinement; returns what was applied (for the report)."""
    applied = []
    set_limits({k: v for k, v in config["limits"].items() if k != "nproc"})
    applied.append("rlimits")
    abi = landlock_abi() if config.get("landlock", True) else 0
    if config.get("uid") is not None and os.geteuid() == 0:
        drop_privileges(config["uid"], config["gid"], keep_read=abi > 0)
        applied.append(f"uid {config['uid']}")
    set_limits({"nproc": config["limits"].get("nproc")})
    if platform.system() == "Linux":
        _prctl(1, 9)  # PR_SET_PDEATHSIG = SIGKILL: die with the trusted side
    if abi:
        landlock(config["read"], config["write"], abi)
        applied.append(f"landlock v{abi}")
        seccomp_deny_open_by_handle()
        applied.append("seccomp")
    return applied


# -----------------------------------------------------------------------------
# serving calls
def _text(s: str) -> str:
    return s if len(s) <= MAX_TEXT else s[:MAX_TEXT // 2] + "\n...\n" + s[-MAX_TEXT // 2:]


def resolve_function(package: str, module: str, function: str):
    """`package.function` where the package itself defines it (a single-file mutant), else
    `package.module.function`. The one definition of that rule: `minigpt.course.Implementation` (trusted side)
    imports it from here, and this file still imports nothing but the standard library and NumPy."""
    import importlib

    top = importlib.import_module(package)
    if hasattr(top, function):
        return getattr(top, function)
    mod = importlib.import_module(f"{package}.{module}")
    if not hasattr(mod, function):
        raise AttributeError(f"{package}.{module} defines no {function}()")
    return getattr(mod, function)


def _changed(before, after) -> bool:
    try:
        if isinstance(before, np.ndarray):
            return not (isinstance(after, np.ndarray) and before.shape == after.shape and before.dtype == after.dtype
                        and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
        return bool(before != after)
    except Exception:  # noqa: BLE001 - a comparison that fails counts as a change
        return True


def serve(config: dict, requests: int, answers: int) -> None:
    import copy

    package = config["package"]
    while True:
        try:
            header, blobs = read_frame(requests)
        except EOFError:
            return
        if header.get("op") == "exit":
            return
        answer, out_blobs = {}, []
        stage = "resolve"  # until the function is found: its import (a SyntaxError, say) fails for every input alike
        try:
            args = decode(header["args"], blobs)
            kwargs = decode(header["kwargs"], blobs)
            before = copy.deepcopy(args)
            fn = resolve_function(package, header["module"], header["function"])
            stage = "call"
            result = fn(*args, **kwargs)
            same = {id(a): i for i, a in enumerate(args)}
            answer["result"] = encode(result, out_blobs, same)
            answer["mutated"] = {str(i): encode(a, out_blobs) for i, (a, b) in enumerate(zip(args, before))
                                 if isinstance(a, (list, dict, np.ndarray)) and _changed(b, a)}
        except BaseException as err:  # noqa: BLE001 - every student failure (exit() too) goes back as data
            out_blobs = []
            answer = {"error": {
                "type": type(err).__name__,
                "builtin": type(err).__module__ == "builtins",
                "message": _text(str(err)),
                "traceback": _text("".join(traceback.format_exception(type(err), err, err.__traceback__)[-6:])),
                "stage": stage,
            }}
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            frame = pack(answer, out_blobs)
        except (ProtocolError, TypeError, ValueError) as err:
            frame = pack({"error": {"type": "ProtocolError", "builtin": False, "message": _text(str(err)), "traceback": ""}}, [])
        write_all(answers, frame)


def main() -> None:
    requests, answers = int(sys.argv[1]), int(sys.argv[2])
    header, _ = read_frame(requests)
    config = header["config"]
    sys.path[:] = config["sys_path"]
    global np
    import numpy as np
    os.chdir(config["cwd"])
    try:
        applied = lock_in(config)
        status = {"ready": True, "applied": applied}
    except Exception as err:  # noqa: BLE001
        status = {"ready": False, "message": f"could not lock the worker in: {type(err).__name__}: {err}"}
    write_all(answers, pack(status, []))
    if status["ready"]:
        serve(config, requests, answers)


if __name__ == "__main__":
    main()
