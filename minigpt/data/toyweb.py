r"""The toy web: a seeded generator of short templated documents with an exactly known entropy.

Each document is drawn by: pick a template t (toyweb_templates.py) with probability p(t), then draw
each of its slots s independently with probability p(v | s). Everything else is fixed or derived.
Since a document spells out its choices unambiguously, its probability is the product of the
choices' probabilities and its information content (surprisal) is

    I(doc) = -ln p(t) - sum_s ln p(v_s)                                 [nats]

and the expected information per document is the entropy

    H = sum_t p(t) [ -ln p(t) + sum_{s in t} H(s) ],    H(s) = -sum_v p(v) ln p(v).

The loss floor: no model can predict the corpus with fewer than sum_docs I(doc) nats in total,
so with N tokens the cross-entropy is at least sum I(doc) / N nats per token (`loss_floor`). The
<|endoftext|> after a document costs nothing: the template tells where the document ends. The floor
is reachable only when the context window holds the whole document (they are short: 24-143 chars).

Documents are separated by <|endoftext|> (one after each document).

    python -m minigpt.data.toyweb --n-docs 5
"""
import argparse
import math
import string
from dataclasses import dataclass
from itertools import product

import numpy as np

from .toyweb_templates import SLOTS, TEMPLATES

EOT = "<|endoftext|>"
_TOTAL_WEIGHT = sum(t.weight for t in TEMPLATES)
_TEMPLATE_P = tuple(t.weight / _TOTAL_WEIGHT for t in TEMPLATES)


@dataclass
class Document:
    text: str
    nats: float        # surprisal -ln p(text)
    template: str
    choices: dict      # slot name -> index of the value drawn


# -----------------------------------------------------------------------------
# sampling

_CDF = {}   # id(weights) -> cumulative sums, so a draw is one binary search


def _draw(rng, weights):
    """Index k with probability weights[k] (inverse-CDF sampling)."""
    cdf = _CDF.get(id(weights))
    if cdf is None:
        cdf = _CDF[id(weights)] = (weights, np.cumsum(weights))
    return min(int(np.searchsorted(cdf[1], rng.random(), side="right")), len(weights) - 1)


def _fill(template, choices):
    fields = {}
    for s in template.slots:
        slot = SLOTS[s]
        fields.update(zip(slot.fields, slot.values[choices[s]]))
    for f, (_, fn) in template.derived.items():
        fields[f] = fn(fields)
    return template.text.format(**fields)


def sample_document(rng, template=None) -> Document:
    """Draw one document (of a random template, or of the given one)."""
    if template is None:
        template = TEMPLATES[_draw(rng, _TEMPLATE_P)]
    nats = -math.log(template.weight / _TOTAL_WEIGHT)
    choices = {}
    for s in template.slots:
        k = _draw(rng, SLOTS[s].weights)
        choices[s] = k
        nats -= math.log(SLOTS[s].weights[k])
    return Document(_fill(template, choices), nats, template.name, choices)


def generate_documents(n_docs=None, seed: int = 0, n_chars=None) -> list:
    """`n_docs` documents, or as many as needed to reach `n_chars` characters (of document text)."""
    if (n_docs is None) == (n_chars is None):
        raise ValueError("give exactly one of n_docs or n_chars")
    rng = np.random.default_rng(seed)
    docs, total = [], 0
    while (len(docs) < n_docs) if n_docs is not None else (total < n_chars):
        docs.append(sample_document(rng))
        total += len(docs[-1].text)
    return docs


def generate_corpus(n_docs=None, seed: int = 0, n_chars=None, sep: str = EOT) -> str:
    """The corpus as one string: each document followed by `sep` (<|endoftext|>).

    Example: generate_corpus(2, seed=0) -> "Weather for ...<|endoftext|>Math practice: ...<|endoftext|>"
    """
    return "".join(d.text + sep for d in generate_documents(n_docs, seed, n_chars))


# -----------------------------------------------------------------------------
# entropy, analytically

def slot_entropy(name: str) -> float:
    """H(s) in nats."""
    return -sum(p * math.log(p) for p in SLOTS[name].weights if p > 0)


def expected_doc_nats() -> float:
    """H = E[I(doc)] in nats, from the template and slot probabilities alone."""
    h = 0.0
    for t in TEMPLATES:
        p = t.weight / _TOTAL_WEIGHT
        h += p * (-math.log(p) + sum(slot_entropy(s) for s in t.slots))
    return h


def _expected_len(template) -> float:
    """E[len(document text)] for one template, by enumerating each slot's values (and joint
    values for derived fields)."""
    total = 0.0
    for literal, f, _, _ in string.Formatter().parse(template.text):
        total += len(literal)
        if f is None:
            continue
        if f in template.derived:
            reads, fn = template.derived[f]
            slots = [SLOTS[s] for s in reads]
            for combo in product(*[range(len(s.values)) for s in slots]):
                fields, p = {}, 1.0
                for s, k in zip(slots, combo):
                    fields.update(zip(s.fields, s.values[k]))
                    p *= s.weights[k]
                total += p * len(fn(fields))
        else:
            slot = next(SLOTS[s] for s in template.slots if f in SLOTS[s].fields)
            i = slot.fields.index(f)
            total += sum(p * len(v[i]) for p, v in zip(slot.weights, slot.values))
    return total


def expected_doc_chars() -> float:
    """E[len(doc)] in characters (separator excluded)."""
    return sum(t.weight / _TOTAL_WEIGHT * _expected_len(t) for t in TEMPLATES)


def nats_per_char() -> float:
    """Entropy rate of document text: H / E[len(doc)], nats per character (separator excluded)."""
    return expected_doc_nats() / expected_doc_chars()


# -----------------------------------------------------------------------------
# entropy of a given text, by parsing it back into its choices

def parse_document(text: str) -> list:
    """All ways (template name, choices) to produce `text`; a toy-web document has exactly one.

    A backtracking match of the template's literal text and slot values against `text`.
    """
    found = []
    for t in TEMPLATES:
        parts = list(string.Formatter().parse(t.text))   # (literal, field, _, _) pairs
        owner = {f: s for s in t.slots for f in SLOTS[s].fields}

        def walk(k, pos, choices):
            if k == len(parts):
                if pos == len(text):
                    found.append((t.name, dict(choices)))
                return
            literal, f, _, _ = parts[k]
            if not text.startswith(literal, pos):
                return
            pos += len(literal)
            if f is None:
                return walk(k + 1, pos, choices)
            if f in t.derived or owner[f] in choices:      # fixed by earlier choices
                fields = {}
                for s, j in choices.items():
                    fields.update(zip(SLOTS[s].fields, SLOTS[s].values[j]))
                value = t.derived[f][1](fields) if f in t.derived else fields[f]
                if text.startswith(value, pos):
                    walk(k + 1, pos + len(value), choices)
                return
            slot = SLOTS[owner[f]]
            i = slot.fields.index(f)
            for j, v in enumerate(slot.values):              # try every value that fits here
                if text.startswith(v[i], pos):
                    choices[slot.name] = j
                    walk(k + 1, pos + len(v[i]), choices)
                    del choices[slot.name]

        walk(0, 0, {})
    return found


def document_nats(text: str) -> float:
    """Surprisal -ln p(text) of one document; raises if `text` is not a toy-web document."""
    parses = parse_document(text)
    if len(parses) != 1:
        raise ValueError(f"not a (uniquely decodable) toy-web document: {len(parses)} parses of {text[:60]!r}")
    name, choices = parses[0]
    t = next(t for t in TEMPLATES if t.name == name)
    return -math.log(t.weight / _TOTAL_WEIGHT) - sum(math.log(SLOTS[s].weights[j]) for s, j in choices.items())


def loss_floor(text: str, tokenizer, sep: str = EOT) -> dict:
    """The lowest achievable mean loss (nats/token) on `text` for a model using `tokenizer`.

    Only complete documents count (a slice cut mid-document loses its ragged ends). Each document
    costs its surprisal; its tokens are those of its text plus one separator token, which is
    predictable (the template says where a document ends), so costs 0 nats.
    """
    pieces = text.split(sep)
    nats, n_tokens, n_docs = 0.0, 0, 0
    for k, piece in enumerate(pieces[:-1]):       # the last piece has no separator after it
        if k == 0 and len(parse_document(piece)) != 1:
            continue                              # ragged start of a slice
        nats += document_nats(piece)
        n_tokens += len(tokenizer.encode(piece)) + 1
        n_docs += 1
    if n_docs == 0:
        raise ValueError("no complete toy-web document in text")
    return {"nats_per_token": nats / n_tokens, "nats": nats, "tokens": n_tokens, "docs": n_docs}


# -----------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-docs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for d in generate_documents(args.n_docs, args.seed):
        print(f"[{d.template}, {d.nats:.2f} nats]\n{d.text}\n")
    print(f"H = {expected_doc_nats():.3f} nats/doc, E[len] = {expected_doc_chars():.1f} chars, "
          f"{nats_per_char():.4f} nats/char")


if __name__ == "__main__":
    main()
