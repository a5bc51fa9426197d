"""Where downloaded and prepared data lives: $MINIGPT_DATA, else ~/.cache/minigpt.

    python -c "from minigpt.data.paths import data_dir; print(data_dir())"
"""
import os
from pathlib import Path


def data_dir(path=None) -> Path:
    """The data folder: `path` if given, else $MINIGPT_DATA, else ~/.cache/minigpt (not created)."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get("MINIGPT_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minigpt"


class DataUnavailableError(RuntimeError):
    """Data that must be downloaded is not cached and cannot be fetched (e.g. offline)."""
