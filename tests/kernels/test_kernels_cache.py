"""The shim's library cache: a private directory, checked before any `.so` is loaded (issue 17 item 7).

These tests need no compiler: the checks run before g++ is called or a library is opened.
"""
import os

import pytest

from minigpt.kernels import emulate


def test_cache_dir_defaults_to_xdg_cache_and_is_created_0700(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGPT_SHIM_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "minigpt").mkdir(parents=True, mode=0o755)   # the data folder may exist, 0755
    d = emulate.cache_dir()
    assert d == tmp_path / "xdg" / "minigpt" / "shim"
    assert d.is_dir() and (os.stat(d).st_mode & 0o777) == 0o700


def test_cache_dir_without_xdg_is_under_home(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGPT_SHIM_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert emulate.cache_dir() == tmp_path / ".cache" / "minigpt" / "shim"


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o707, 0o777])
def test_cache_dir_open_to_others_is_refused(tmp_path, monkeypatch, mode):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, mode)
    monkeypatch.setenv("MINIGPT_SHIM_CACHE", str(d))
    with pytest.raises(PermissionError, match="chmod 700"):
        emulate.cache_dir()
    # build() checks the directory before it compiles or loads anything
    with pytest.raises(PermissionError, match="mode"):
        emulate.build('extern "C" __global__ void k(float* x) { x[0] = 1.0f; }', label="planted")


def test_cache_dir_owned_by_someone_else_is_refused(tmp_path, monkeypatch):
    d = tmp_path / "theirs"
    d.mkdir(mode=0o700)
    monkeypatch.setenv("MINIGPT_SHIM_CACHE", str(d))
    real_uid = os.getuid()
    monkeypatch.setattr(emulate.os, "getuid", lambda: real_uid + 1)   # we pretend to be another user
    with pytest.raises(PermissionError, match="owned by uid"):
        emulate.cache_dir()


def test_cache_dir_in_a_folder_others_can_write_is_refused(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)                        # no sticky bit: anyone could swap our directory
    (shared / "cache").mkdir(mode=0o700)
    monkeypatch.setenv("MINIGPT_SHIM_CACHE", str(shared / "cache"))
    with pytest.raises(PermissionError, match="others can write to"):
        emulate.cache_dir()
    os.chmod(shared, 0o1777)                       # like /tmp: the sticky bit stops that
    assert emulate.cache_dir() == shared / "cache"


def test_cache_dir_symlink_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    monkeypatch.setenv("MINIGPT_SHIM_CACHE", str(link))
    with pytest.raises(PermissionError, match="symlink"):
        emulate.cache_dir()


def test_library_writable_by_others_is_refused(tmp_path):
    lib = tmp_path / "shim-0.so"
    lib.write_bytes(b"\x7fELF planted")
    os.chmod(lib, 0o666)
    with pytest.raises(PermissionError, match="refusing to load"):
        emulate._check_library(lib)
    os.chmod(lib, 0o600)
    emulate._check_library(lib)            # our own, private file passes


# -----------------------------------------------------------------------------
# the precompiled shim header the grader hands its sandboxed workers (MINIGPT_SHIM_PCH)
def fake_pch(folder):
    folder.mkdir(mode=0o700)
    for name in ("cuda_shim.h", "cuda_shim.h.gch"):
        (folder / name).write_text("x")
        os.chmod(folder / name, 0o644)
    return folder


def test_pch_from_env_unset_or_incomplete_is_none(tmp_path, monkeypatch):
    monkeypatch.delenv(emulate.PCH_ENV, raising=False)
    assert emulate._pch_from_env() is None
    monkeypatch.setenv(emulate.PCH_ENV, str(tmp_path))  # no cuda_shim.h.gch there: kernels compile the header themselves
    assert emulate._pch_from_env() is None
    monkeypatch.setenv(emulate.PCH_ENV, str(fake_pch(tmp_path / "pch")))
    assert emulate._pch_from_env() == tmp_path / "pch"


@pytest.mark.parametrize("what", ["folder", "cuda_shim.h", "cuda_shim.h.gch"])
def test_pch_writable_by_others_is_refused(tmp_path, monkeypatch, what):
    folder = fake_pch(tmp_path / "pch")
    os.chmod(folder if what == "folder" else folder / what, 0o777 if what == "folder" else 0o666)
    monkeypatch.setenv(emulate.PCH_ENV, str(folder))
    with pytest.raises(PermissionError, match="writable by others"):
        emulate._pch_from_env()


def test_pch_symlink_is_refused(tmp_path, monkeypatch):
    real = fake_pch(tmp_path / "real")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    monkeypatch.setenv(emulate.PCH_ENV, str(tmp_path / "link"))
    with pytest.raises(PermissionError, match="symlink"):
        emulate._pch_from_env()


@pytest.mark.slow
@pytest.mark.skipif(emulate.compiler() is None, reason="needs a C++20 compiler")
def test_kernel_built_against_the_pch_gives_the_same_result(tmp_path, monkeypatch):
    """precompiled_header() builds cuda_shim.h.gch once (cached); a kernel compiled with it computes what it did without."""
    import numpy as np

    monkeypatch.setenv("MINIGPT_SHIM_CACHE", str(tmp_path / "cache"))
    pch = emulate.precompiled_header()
    assert pch is not None and (pch / "cuda_shim.h.gch").is_file() and emulate.precompiled_header() == pch
    assert all(os.stat(p).st_mode & 0o022 == 0 for p in (pch, pch / "cuda_shim.h", pch / "cuda_shim.h.gch"))
    src = 'extern "C" __global__ void twice(float* y, const float* x, int n) { int i = threadIdx.x; if (i < n) y[i] = 2.0f * x[i] + 1.0f; }'
    x = np.arange(8, dtype=np.float32)
    results = []
    for use in (False, True):
        if use:
            monkeypatch.setenv(emulate.PCH_ENV, str(pch))
        y = np.zeros_like(x)
        emulate.build(src, label=f"pch{use}").launch("twice", 1, 8, 0, y, x, 8)
        results.append(y)
    np.testing.assert_array_equal(results[0], 2 * x + 1)
    np.testing.assert_array_equal(results[1], results[0])
