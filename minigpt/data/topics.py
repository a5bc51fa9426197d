r"""A labelled toy task for GPT-1-style fine-tuning: which kind of document does a snippet come from?

The toy world's pretraining documents come in kinds (corpus.py): math notes, word games, sorting
practice, the atlas, manners. A snippet is a document with its heading removed, cut after a
sentence within a few dozen characters; its label is the kind. With a handful of labelled snippets, a model trained
from scratch has little to go on; a pretrained one already represents what kind of text it is
reading (it had to, to predict the next character), so a linear head on top learns fast.

    python -c "from minigpt.data.topics import topic_examples; print(*topic_examples(1), sep='\n')"
"""
import numpy as np

from minigpt.data.assistant.corpus import HEADINGS, make_document

KINDS = ("math", "words", "order", "atlas", "manners")


def snippet(doc, max_chars=60):
    """The document without its heading, cut after the last full sentence that fits in `max_chars`.

    (Ending on a sentence boundary matters: there the model's state is about what kind of sentence
    comes next, i.e. about the topic; in the middle of a word it is about finishing the word.)
    """
    for heads in HEADINGS.values():
        for h in heads:
            if doc.startswith(h + " ") or doc.startswith(h + "\n"):
                body = doc[len(h) + 1:]
                cut = max(body.rfind(". ", 0, max_chars), body.rfind(".\n", 0, max_chars))
                return body[:cut + 1] if cut > 0 else body[:max_chars]
    raise ValueError(f"document does not start with a known heading: {doc[:40]!r}")


def topic_examples(n_per_kind, seed=0, max_chars=60):
    """[(snippet, label)] with n_per_kind snippets of each kind in KINDS, shuffled (label = index in KINDS)."""
    rng = np.random.default_rng([seed, 67])
    out = [(snippet(make_document(kind, rng), max_chars), k) for _ in range(n_per_kind) for k, kind in enumerate(KINDS)]
    return [out[i] for i in rng.permutation(len(out))]
