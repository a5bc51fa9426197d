"""safetensors + JSON checkpoints: round trip, atomic writes, clear errors on bad files."""
import os

import numpy as np
import pytest

from minigpt.checkpoint import load_checkpoint, load_tensors, save_checkpoint, save_tensors


def test_roundtrip_with_optimizer(tmp_path, rng):
    state = {"a.weight": rng.standard_normal((3, 2)).astype(np.float32), "b": np.arange(4, dtype=np.int64)}
    optim = {"t": 7, "m.0": np.ones((3, 2), np.float32)}
    save_checkpoint(tmp_path / "ck", state, {"n_layer": 2, "name": "x"}, optim_state=optim)
    cfg, st, opt = load_checkpoint(tmp_path / "ck", with_optim=True)
    assert cfg == {"n_layer": 2, "name": "x"}
    for k in state:
        np.testing.assert_array_equal(st[k], state[k])
        assert st[k].dtype == state[k].dtype
    assert opt["t"] == 7 and np.array_equal(opt["m.0"], optim["m.0"])
    assert not [f for f in os.listdir(tmp_path / "ck") if f.startswith(".tmp")]  # no temp files left


def test_truncated_and_corrupt(tmp_path):
    p = tmp_path / "m.safetensors"
    save_tensors(p, {"w": np.ones((64, 64), np.float32)})
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated checkpoint"):
        load_tensors(p)
    p.write_bytes(b"\x00" * 8 + b"garbage")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_tensors(p)
    with pytest.raises(FileNotFoundError, match="missing checkpoint file"):
        load_tensors(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="no checkpoint directory"):
        load_checkpoint(tmp_path / "nodir")


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "m.safetensors"
    save_tensors(p, {"w": np.zeros(3, np.float32)})
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_tensors(p, {"w": np.ones(3, np.float32)})
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]
