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
