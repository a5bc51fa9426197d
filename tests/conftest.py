import os

import numpy as np
import pytest

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MINIGPT_RANKS", "1")  # `minigpt pipeline` stays one process unless a test asks for ranks
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


@pytest.fixture(scope="session")
def mixed_bpe():
    """mixed_bpe("gpt2" | "gpt4"): a 900-token BPE trained once per session on toy-web, English, Chinese,
    digits and emoji (the tokenizer tests that compare fast paths with the reference share it)."""
    from minigpt.data.chinese import parallel_text
    from minigpt.data.toyweb import generate_corpus
    from minigpt.tokenizer import GPT2_PATTERN, GPT4_PATTERN, BPETokenizer

    trained = {}

    def get(name):
        if name not in trained:
            en, zh = parallel_text(400, seed=4)
            text = generate_corpus(n_chars=30_000, seed=4) + en + zh + "12345678901234567890 🙂🙂 " * 30
            trained[name] = BPETokenizer.train(text, 900, pattern={"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}[name])
        return trained[name]
    return get
