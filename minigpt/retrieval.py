r"""Retrieval: find the chunks of a document set that answer a question, and put them in the prompt.

A model only knows what its weights memorised, and it answers fluently either way: ask it about
something it never saw and it makes up a plausible answer (a hallucination). Retrieval-augmented
generation looks the facts up instead:

    1. chunk     split every document into short overlapping pieces (a chunk fits the context)
    2. embed     map each chunk to a unit vector e (bag of tokens, or a model's mean hidden state)
    3. search    embed the question as q; the nearest chunks by cosine similarity  cos = q · e
    4. prompt    "<chunk 1>\n...<chunk k>\n<question>"  → a reader model copies the answer from context

Two embeddings:
    bag of tokens   e = tf-idf weighted token counts, normalised: words shared by the question and
                    a chunk count, rare words (names) count most. Needs no training.
    mean pooled     e = mean_t h_t of a GPT's final hidden states (B, T, C) → (C,), normalised.
                    Only as good as what the model learned to represent.

    python -c "from minigpt.retrieval import *; docs = ['Mira lives in Pell.', 'Oskar lives in Vesk.']; v, ix = fit_bag_of_words(docs); print(VectorIndex(v).search(ix('Where does Oskar live?'), k=1))"
"""
import re
from collections import Counter

import numpy as np

from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp

WORD = re.compile(r"[A-Za-z]+|\d+")


# -----------------------------------------------------------------------------
# chunking

def chunk_text(text, max_words=20, overlap=5):
    """Split `text` into chunks of at most `max_words` words, consecutive chunks sharing `overlap` words.

    Example: 'a b c d e', max_words=3, overlap=1 → ['a b c', 'c d e'].
    """
    if max_words < 1 or not 0 <= overlap < max_words:
        raise ValueError(f"need max_words ≥ 1 and 0 ≤ overlap < max_words, got {max_words}, {overlap}")
    words = text.split()
    if not words:
        return []
    step = max_words - overlap
    chunks = []
    for s in range(0, len(words), step):
        chunks.append(" ".join(words[s:s + max_words]))
        if s + max_words >= len(words):
            break
    return chunks


def chunk_documents(docs, max_words=20, overlap=5):
    """(chunks, doc index of each chunk) for a list of documents."""
    chunks, source = [], []
    for i, d in enumerate(docs):
        for c in chunk_text(d, max_words, overlap):
            chunks.append(c)
            source.append(i)
    return chunks, np.array(source, dtype=np.int64)


# -----------------------------------------------------------------------------
# embeddings

def normalize(v, eps=1e-12):
    """Rows scaled to unit length (all-zero rows stay zero)."""
    v = np.asarray(v, dtype=np.float64)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def words(text):
    return [w.lower() for w in WORD.findall(text)]


def fit_bag_of_words(chunks, idf=True):
    r"""Bag-of-tokens vectors for `chunks` and a function embedding new text the same way.

    Vocabulary = the chunks' words. Weight of word w in a text: count(w) · idf(w), with
    idf(w) = ln((1 + N) / (1 + df(w))) + 1 (N chunks, df = chunks containing w): a word in every
    chunk ("the", "lives") weighs ~1, a name found in one chunk ~ln(N/2) + 1. Unknown words are dropped.
    Returns (vectors (N, V) unit rows, embed(text or list of texts) → unit rows).
    """
    docs = [words(c) for c in chunks]
    vocab = {w: i for i, w in enumerate(sorted({w for d in docs for w in d}))}
    df = np.zeros(len(vocab))
    for d in docs:
        for w in set(d):
            df[vocab[w]] += 1
    weight = np.log((1 + len(docs)) / (1 + df)) + 1 if idf else np.ones(len(vocab))

    def embed(texts):
        single = isinstance(texts, str)
        texts = [texts] if single else texts
        out = np.zeros((len(texts), len(vocab)))
        for r, t in enumerate(texts):
            for w, c in Counter(words(t)).items():
                if w in vocab:
                    out[r, vocab[w]] = c * weight[vocab[w]]
        out = normalize(out)
        return out[0] if single else out

    return embed(list(chunks)), embed


def mean_pooled(model, token_lists, batch_size=64):
    r"""e = normalise(1/T Σ_t h_t): a GPT's final hidden states averaged over each text's tokens.

    token_lists: list of id lists (each cropped to the last block_size tokens). Returns (N, C).
    """
    block = model.config.block_size
    out = []
    was = model.training
    model.eval()
    with no_grad():
        for s in range(0, len(token_lists), batch_size):
            rows = [list(t)[-block:] for t in token_lists[s:s + batch_size]]
            lengths = np.array([len(r) for r in rows])
            if lengths.min() < 1:
                raise ValueError("mean_pooled: every text needs at least one token")
            ids = np.zeros((len(rows), lengths.max()), dtype=np.int64)
            for i, r in enumerate(rows):
                ids[i, :len(r)] = r  # right padding: causal attention keeps real tokens from seeing it
            h = to_numpy(model.hidden(xp.asarray(ids)).data).astype(np.float64)  # (B, T, C)
            mask = np.arange(ids.shape[1])[None, :] < lengths[:, None]  # (B, T)
            out.append((h * mask[..., None]).sum(axis=1) / lengths[:, None])
    model.train(was)
    return normalize(np.concatenate(out))


# -----------------------------------------------------------------------------
# search

class VectorIndex:
    """Exact nearest-neighbour search by cosine similarity over unit vectors (a brute-force matmul)."""

    def __init__(self, vectors):
        self.vectors = normalize(vectors)  # (N, D)

    def search(self, queries, k=1):
        """(indices (Q, k), similarities (Q, k)), best first; a single query (D,) gives 1-D arrays."""
        q = normalize(queries)
        single = q.ndim == 1
        q = q[None] if single else q
        if q.shape[1] != self.vectors.shape[1]:
            raise ValueError(f"query dimension {q.shape[1]} does not match the index dimension {self.vectors.shape[1]}")
        k = min(k, len(self.vectors))
        sims = q @ self.vectors.T  # (Q, N): cosine, since every row has unit length
        idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]  # ties: the earlier chunk first
        top = np.take_along_axis(sims, idx, axis=1)
        return (idx[0], top[0]) if single else (idx, top)


def recall_at_k(index, queries, gold, k=1):
    """Fraction of queries whose gold chunk (or document, via `gold`) is among the top k."""
    idx, _ = index.search(queries, k)
    return float(np.mean([g in row for g, row in zip(gold, idx)]))


def build_prompt(question, chunks=()):
    """The reader's prompt: the retrieved chunks (if any), one per line, then the question.

    Example: build_prompt("Where?", ["Mira lives in Pell."]) → "Mira lives in Pell.\nWhere?"
    """
    return "\n".join([c.strip() for c in chunks] + [question])
