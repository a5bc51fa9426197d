"""Checkpoints: tensors in safetensors, configuration in JSON, written as one unit.

A checkpoint is a directory whose files belong together:

    run/ckpt/
      config.json          what the model is (GPTConfig fields, tokenizer path, stage, step, ...)
      model.safetensors    the weights: {parameter name: array}
      optim.safetensors    optional optimizer state, for --resume
      tokenizer.json, value_model.safetensors, ...   whatever else the stage needs
      manifest.json        sha256 and size of every other file: written last, checked on load

Never pickle: a pickle can run arbitrary code when loaded; safetensors holds only arrays.

How a save stays whole when the process is killed or the disk fills up:
1. every file is written into a fresh temporary directory next to the checkpoint
   (`run/.ckpt.tmp-XXXX`) and fsynced, then the manifest, then the directory itself;
2. the old checkpoint is renamed aside (`run/.ckpt.old-XXXX`), the new one renamed into place, the
   parent directory fsynced, and only then is the old one deleted.
A kill before step 2 leaves the old checkpoint untouched (the next save removes the temporary
directory); a kill between the two renames leaves the old, complete one under `.ckpt.old-*`,
which loading falls back to and the next save restores. Loading checks every file against the
manifest and names the one that disagrees.

    python -c "import numpy as np, minigpt.checkpoint as c; c.save_tensors('/tmp/x.safetensors', {'w': np.ones(2, np.float32)}); print(c.load_tensors('/tmp/x.safetensors'))"
"""
import glob
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
from minigpt.backend import to_numpy

MANIFEST = "manifest.json"

# test hook: called with a label after each file of a checkpoint save ("model.safetensors", ...,
# "manifest.json", "swap"), so tests can kill or fail a save at every point in between.
_between_files = None


def _hook(label):
    if _between_files is not None:
        _between_files(label)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_path(path):
    """Flush a file or a directory to disk (directories: so that renames inside them survive a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes):
    """Write `data` to `path` via a temp file in the same directory + fsync + os.replace + fsync(dir)."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual mode
        os.replace(tmp, path)
        _fsync_path(d)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def strict_json(x):
    """`x` with every NaN/±inf float replaced by None and NumPy scalars made Python ones: JSON has no
    NaN, and a bare `NaN` in a file breaks every strict reader. e.g. {"a": [1.0, nan]} -> {"a": [1.0, None]}"""
    if isinstance(x, dict):
        return {str(k): strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [strict_json(v) for v in x]
    if isinstance(x, (np.generic,)):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def json_bytes(obj) -> bytes:
    """Strict JSON (NaN/inf written as null), sorted keys."""
    return (json.dumps(strict_json(obj), indent=2, sort_keys=True, allow_nan=False) + "\n").encode()


def save_json(path, obj):
    atomic_write_bytes(path, json_bytes(obj))


def load_json(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"missing JSON file {path}")
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"corrupt JSON in {path}: {e}") from e


def tensors_bytes(tensors, metadata=None) -> bytes:
    """{name: array} as safetensors bytes (arrays copied to host, made contiguous)."""
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(to_numpy(v)) for k, v in tensors.items()}
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    return save(arrays, metadata=meta or None)


def save_tensors(path, tensors, metadata=None):
    """Save {name: array} as one safetensors file, atomically."""
    atomic_write_bytes(path, tensors_bytes(tensors, metadata))


def load_tensors(path):
    """Load {name: NumPy array}; a clear error for a missing, truncated or corrupt file."""
    from safetensors.numpy import load
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"missing checkpoint file {path}")
    with open(path, "rb") as f:
        data = f.read()
    try:
        return dict(load(data))
    except Exception as e:  # safetensors raises its own error types
        raise ValueError(f"corrupt or truncated checkpoint {path} ({len(data)} bytes): {e}") from e


def optim_bytes(optim_state) -> bytes:
    """An optimizer state dict as safetensors: arrays as tensors, scalars (the step count) as metadata."""
    scalars = {k: float(v) for k, v in optim_state.items() if np.ndim(v) == 0}
    arrays = {k: v for k, v in optim_state.items() if np.ndim(v) > 0}
    return tensors_bytes(arrays, metadata={"scalars": json.dumps(scalars)})


def load_optim(path):
    from safetensors import safe_open
    state = load_tensors(path)
    with safe_open(os.fspath(path), framework="numpy") as f:
        state.update(json.loads((f.metadata() or {}).get("scalars", "{}")))
    return state


# -----------------------------------------------------------------------------
# a checkpoint directory as one unit

def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _leftovers(directory, kind):
    parent, base = os.path.split(os.path.abspath(os.fspath(directory)))
    return sorted(glob.glob(os.path.join(parent, f".{base}.{kind}-*")), key=os.path.getmtime)


def recover(directory):
    """Tidy what killed saves left next to `directory`: restore the previous checkpoint if a save
    died between its two renames, delete temporary directories. Call it only as the run's writer."""
    directory = os.path.abspath(os.fspath(directory))
    olds = _leftovers(directory, "old")
    if olds and not os.path.exists(directory):
        os.rename(olds.pop(), directory)  # the newest complete previous checkpoint
        _fsync_path(os.path.dirname(directory))
    for leftover in olds + _leftovers(directory, "tmp"):
        shutil.rmtree(leftover, ignore_errors=True)


def write_checkpoint(directory, files):
    """Write {file name: bytes | function(path)} as the checkpoint `directory`, all or nothing.

    The previous checkpoint stays in place until the new one is complete (module docstring).
    """
    directory = os.path.abspath(os.fspath(directory))
    parent, base = os.path.split(directory)
    os.makedirs(parent, exist_ok=True)
    recover(directory)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{base}.tmp-")
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; use the usual mode
        manifest = {}
        for name, content in files.items():
            path = os.path.join(tmp, name)
            if callable(content):
                content(path)
            else:
                with open(path, "wb") as f:
                    f.write(content)
            _fsync_path(path)
            manifest[name] = {"sha256": _sha256(path), "bytes": os.path.getsize(path)}
            _hook(name)
        with open(os.path.join(tmp, MANIFEST), "wb") as f:
            f.write(json_bytes({"format": 1, "files": manifest}))
            f.flush()
            os.fsync(f.fileno())
        _fsync_path(tmp)
        _hook(MANIFEST)
        old = None
        if os.path.exists(directory):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{base}.old-")
            os.rmdir(old)  # only the unique name is wanted
            os.rename(directory, old)
            _hook("swap")
        os.rename(tmp, directory)
        _fsync_path(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def checkpoint_dir(directory):
    """The directory to read a checkpoint from: `directory`, or the previous complete checkpoint that
    a save killed between its renames left beside it (read-only: `recover` moves it back)."""
    directory = os.fspath(directory)
    if os.path.isdir(directory):
        return directory
    olds = _leftovers(directory, "old")
    if olds:
        return olds[-1]
    raise FileNotFoundError(f"no checkpoint directory at {directory}")


def verify_checkpoint(directory):
    """Check every file against manifest.json; raise naming the first one that disagrees.

    A directory without a manifest (written before manifests existed) is accepted unverified.
    """
    directory = checkpoint_dir(directory)
    mpath = os.path.join(directory, MANIFEST)
    if not os.path.exists(mpath):
        return directory
    files = load_json(mpath).get("files", {})
    for name, want in sorted(files.items()):
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            raise ValueError(f"torn checkpoint {directory}: {name} is listed in {MANIFEST} but missing")
        if os.path.getsize(path) != want["bytes"] or _sha256(path) != want["sha256"]:
            raise ValueError(f"torn or modified checkpoint {directory}: {name} does not match its sha256 in "
                             f"{MANIFEST} (a file was replaced or only partly written)")
    return directory


def save_checkpoint(directory, model_state, config, optim_state=None, extra_files=None):
    """Write config.json, model.safetensors (optim.safetensors, `extra_files`) as one unit."""
    files = {"model.safetensors": tensors_bytes(model_state)}
    if optim_state is not None:
        files["optim.safetensors"] = optim_bytes(optim_state)
    files.update(extra_files or {})
    files["config.json"] = json_bytes(config)
    write_checkpoint(directory, files)


def load_checkpoint(directory, with_optim=False):
    """Return (config dict, model state dict[, optimizer state dict or None]), verified against the manifest."""
    directory = verify_checkpoint(directory)
    config = load_json(os.path.join(directory, "config.json"))
    state = load_tensors(os.path.join(directory, "model.safetensors"))
    if not with_optim:
        return config, state
    opath = os.path.join(directory, "optim.safetensors")
    return config, state, load_optim(opath) if os.path.exists(opath) else None
