import os

import numpy as np
import pytest

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_collection_modifyitems(config, items):
    """Skip `cuda` tests cleanly when no GPU is usable (they are also deselected by default)."""
    from minigpt.backend import is_cuda_available
    if any("cuda" in item.keywords for item in items) and not is_cuda_available():
        skip = pytest.mark.skip(reason="needs an NVIDIA GPU with CuPy")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)
