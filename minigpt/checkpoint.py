"""Checkpoints: tensors in safetensors, configuration in JSON, written atomically.

A checkpoint is a directory:

    run/ckpt/
      config.json          what the model is (GPTConfig fields, tokenizer path, stage, step, ...)
      model.safetensors    the weights: {parameter name: array}
      optim.safetensors    optional optimizer state, for --resume

Never pickle: a pickle can run arbitrary code when loaded; safetensors holds only
arrays. Every file is written to a temporary name and renamed into place, so a
crash mid-write never leaves a half-written checkpoint.

    python -c "import numpy as np, minigpt.checkpoint as c; c.save_tensors('/tmp/x.safetensors', {'w': np.ones(2, np.float32)}); print(c.load_tensors('/tmp/x.safetensors'))"
"""
import json
import os
import tempfile

import numpy as np


def atomic_write_bytes(path, data: bytes):
    """Write `data` to `path` via a temp file in the same directory + os.replace."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_json(path, obj):
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def load_json(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"missing JSON file {path}")
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"corrupt JSON in {path}: {e}") from e


def save_tensors(path, tensors, metadata=None):
    """Save {name: array} as safetensors (arrays copied to host, made contiguous)."""
    from safetensors.numpy import save

    from minigpt.backend import to_numpy
    arrays = {k: np.ascontiguousarray(to_numpy(v)) for k, v in tensors.items()}
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    atomic_write_bytes(path, save(arrays, metadata=meta or None))


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


# -----------------------------------------------------------------------------
# directory checkpoints

def save_checkpoint(directory, model_state, config, optim_state=None):
    """Write config.json, model.safetensors (and optim.safetensors) into `directory`.

    The config goes last, so a directory with a config.json always has its weights.
    """
    os.makedirs(directory, exist_ok=True)
    save_tensors(os.path.join(directory, "model.safetensors"), model_state)
    if optim_state is not None:
        scalars = {k: v for k, v in optim_state.items() if np.ndim(v) == 0}
        arrays = {k: v for k, v in optim_state.items() if np.ndim(v) > 0}
        save_tensors(os.path.join(directory, "optim.safetensors"), arrays, metadata={"scalars": json.dumps(
            {k: float(v) for k, v in scalars.items()})})
    save_json(os.path.join(directory, "config.json"), config)


def load_checkpoint(directory, with_optim=False):
    """Return (config dict, model state dict[, optimizer state dict or None])."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"no checkpoint directory at {directory}")
    config = load_json(os.path.join(directory, "config.json"))
    state = load_tensors(os.path.join(directory, "model.safetensors"))
    if not with_optim:
        return config, state
    opath = os.path.join(directory, "optim.safetensors")
    if not os.path.exists(opath):
        return config, state, None
    from safetensors import safe_open
    optim = load_tensors(opath)
    with safe_open(opath, framework="numpy") as f:
        scalars = json.loads((f.metadata() or {}).get("scalars", "{}"))
    optim.update(scalars)
    return config, state, optim
