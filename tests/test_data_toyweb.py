"""Toy web corpus: determinism, unique decodability, and the entropy numbers the notebooks quote.

    PYTHONPATH=. python -m pytest tests/test_data_toyweb.py -q
"""
import math

import numpy as np
import pytest

from minigpt.data import toyweb as tw
from minigpt.data.toyweb_templates import SLOTS, TEMPLATES
from minigpt.tokenizer import CharTokenizer


@pytest.fixture(scope="module")
def docs():
    return tw.generate_documents(20_000, seed=7)


def test_deterministic_by_seed():
    assert tw.generate_corpus(50, seed=1) == tw.generate_corpus(50, seed=1)
    assert tw.generate_corpus(50, seed=1) != tw.generate_corpus(50, seed=2)
    text = tw.generate_corpus(n_chars=5000, seed=3)
    docs = tw.generate_documents(n_chars=5000, seed=3)
    assert sum(len(d.text) for d in docs) >= 5000 > sum(len(d.text) for d in docs[:-1])
    assert text == "".join(d.text + "<|endoftext|>" for d in docs)
    with pytest.raises(ValueError, match="exactly one"):
        tw.generate_corpus(10, n_chars=10)


def test_surprisal_by_hand():
    """Template weights sum to 3+2+2+1+1+2+1.5+1.5+1+1 = 16. A "count" document picks the
    template (1/16) and a start among 95 values: I = ln 16 + ln 95 = 2.77259 + 4.55388 = 7.32647.
    A "times" document: ln 16 + 2 ln 11 = 2.77259 + 4.79579 = 7.56838."""
    assert sum(t.weight for t in TEMPLATES) == 16
    assert tw.document_nats("Counting: 30, 31, 32, 33, 34.") == pytest.approx(7.32647, abs=1e-5)
    assert tw.document_nats("Times table: 11 times 12 is 132.") == pytest.approx(7.56838, abs=1e-5)
    with pytest.raises(ValueError, match="0 parses"):
        tw.document_nats("Times table: 11 times 12 is 133.")       # wrong product: not a document


def test_every_document_parses_back_uniquely(docs):
    for d in docs[:3000]:
        assert tw.parse_document(d.text) == [(d.template, d.choices)]
        assert tw.document_nats(d.text) == pytest.approx(d.nats, rel=1e-12)


def test_times_template_entropy_by_enumeration():
    """All 11*11 "times" documents are distinct strings, each with p = 1/121: H = ln 121."""
    t = next(t for t in TEMPLATES if t.name == "times")
    texts = {t.text.format(x=x, y=y, prod=x * y) for x in range(2, 13) for y in range(2, 13)}
    assert len(texts) == 121
    assert sum(tw.slot_entropy(s) for s in t.slots) == pytest.approx(math.log(121))


def test_expected_entropy_and_length_match_samples(docs):
    nats = np.array([d.nats for d in docs])
    lens = np.array([len(d.text) for d in docs])
    se_h = nats.std() / math.sqrt(len(docs))
    se_l = lens.std() / math.sqrt(len(docs))
    assert abs(nats.mean() - tw.expected_doc_nats()) < 5 * se_h
    assert abs(lens.mean() - tw.expected_doc_chars()) < 5 * se_l
    assert tw.nats_per_char() == pytest.approx(tw.expected_doc_nats() / tw.expected_doc_chars())


def test_template_frequencies(docs):
    total = sum(t.weight for t in TEMPLATES)
    for t in TEMPLATES:
        p = t.weight / total
        freq = sum(d.template == t.name for d in docs) / len(docs)
        assert abs(freq - p) < 5 * math.sqrt(p * (1 - p) / len(docs)), t.name


def test_slot_probabilities_are_normalised():
    for s in SLOTS.values():
        assert math.isclose(sum(s.weights), 1.0, rel_tol=1e-12), s.name
        assert len(s.values) == len(s.weights) and all(len(v) == len(s.fields) for v in s.values)


def test_loss_floor_char_level():
    """Char tokenizer: tokens = characters of each document + 1 separator token."""
    docs = tw.generate_documents(300, seed=11)
    text = "".join(d.text + "<|endoftext|>" for d in docs)
    tok = CharTokenizer.train(text.replace("<|endoftext|>", ""))
    floor = tw.loss_floor(text, tok)
    expect = sum(d.nats for d in docs) / sum(len(d.text) + 1 for d in docs)
    assert floor["docs"] == 300 and floor["nats_per_token"] == pytest.approx(expect, rel=1e-12)
    ragged = text[10:]                                   # starts mid-document: first doc dropped
    assert tw.loss_floor(ragged, tok)["docs"] == 299
