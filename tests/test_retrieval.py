"""Retrieval: chunking, tf-idf bag of words by hand, cosine search vs a brute-force loop, mean pooling
independent of padding, and recall on the toy knowledge base."""
import math

import numpy as np
import pytest

from minigpt.data.facts import make_people, make_registers, questions_about
from minigpt.nn import GPT, GPTConfig
from minigpt.retrieval import (VectorIndex, build_prompt, chunk_documents, chunk_text, fit_bag_of_words, mean_pooled,
                               recall_at_k)


def test_chunk_text_hand_worked():
    assert chunk_text("a b c d e", max_words=3, overlap=1) == ["a b c", "c d e"]
    assert chunk_text("a b c d e f", max_words=3, overlap=1) == ["a b c", "c d e", "e f"]
    assert chunk_text("a b", max_words=5, overlap=2) == ["a b"]
    assert chunk_text("   ") == []
    chunks, src = chunk_documents(["a b c d", "e"], max_words=2, overlap=0)
    assert chunks == ["a b", "c d", "e"] and src.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="overlap < max_words"):
        chunk_text("a b", max_words=2, overlap=2)


def test_bag_of_words_tfidf_hand_worked():
    """Chunks 'a b' and 'a c': N = 2; idf(a) = ln(3/3) + 1 = 1 (in both), idf(b) = idf(c) = ln(3/2) + 1.
    Vocabulary sorted [a, b, c]: 'a b' → [1, w, 0] / √(1 + w²) with w = 1 + ln 1.5."""
    vecs, embed = fit_bag_of_words(["a b", "a c"])
    w = 1 + math.log(1.5)
    np.testing.assert_allclose(vecs[0], np.array([1, w, 0]) / math.sqrt(1 + w * w), rtol=1e-12)
    np.testing.assert_allclose(embed("B b zzz"), [0, 1, 0])  # counts, lower-cased; unknown words dropped
    assert not embed("zzz").any()


def test_search_matches_brute_force(rng):
    data = rng.standard_normal((30, 8))
    queries = rng.standard_normal((5, 8))
    idx, sims = VectorIndex(data).search(queries, k=3)
    for q, row, srow in zip(queries, idx, sims):
        cos = [float(q @ d) / (np.linalg.norm(q) * np.linalg.norm(d)) for d in data]
        best = sorted(range(30), key=lambda i: -cos[i])[:3]
        assert row.tolist() == best
        np.testing.assert_allclose(srow, [cos[i] for i in best], rtol=1e-12)
    one, _ = VectorIndex(data).search(queries[0], k=2)
    assert one.shape == (2,)
    with pytest.raises(ValueError, match="query dimension 3"):
        VectorIndex(data).search(np.ones(3))


def test_bag_of_words_finds_every_person():
    """Chunks of 9 words hold exactly one person; the question's rare words (the name) pick it out."""
    people = make_people(60, seed=3)
    chunks, _ = chunk_documents(make_registers(people, per_doc=4), max_words=9, overlap=0)
    assert chunks == [p.sentence for p in people]
    qs = questions_about(people)
    vecs, embed = fit_bag_of_words(chunks)
    assert recall_at_k(VectorIndex(vecs), embed([q.text for q in qs]), [q.person for q in qs], k=1) == 1.0


def test_mean_pooled_ignores_padding():
    model = GPT(GPTConfig(vocab_size=13, block_size=8, n_layer=1, n_head=2, n_embd=8), seed=0)
    texts = [[1, 2, 3], [4, 5, 6, 7, 8], [9]]
    together = mean_pooled(model, texts)
    alone = np.concatenate([mean_pooled(model, [t]) for t in texts])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-6)
    h = model.hidden(np.array([[9]])).data[0, 0]
    np.testing.assert_allclose(together[2], h / np.linalg.norm(h), rtol=1e-5)


def test_build_prompt():
    assert build_prompt("Where?", ["Mira lives in Pell. "]) == "Mira lives in Pell.\nWhere?"
    assert build_prompt("Where?") == "Where?"
