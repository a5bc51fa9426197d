r"""A toy knowledge base for retrieval: invented people, where they live and how many goats they keep.

Every person is one sentence of exactly nine words, so chunks of nine words hold one person each:

    Mira Tosk lives in Pell and keeps 7 goats.

Questions ask for one fact: "Where does Mira Tosk live?" → "Pell", "How many goats does Mira Tosk
keep?" → "7". Names are unique, so every question has one answer, found in one sentence. People
are split into disjoint groups (e.g. the reader trains on some, is tested on others), so a model
can only answer a test question by reading the fact, never by remembering it. A register document
lists several people; `make_registers` joins them, to be chunked again by retrieval.chunk_text.

Only characters of the assistant world's alphabet are used (letters, digits, " .?" and newline).

    python -m minigpt.data.facts
"""
from dataclasses import dataclass

import numpy as np

FIRST = ("Mi", "Os", "Ta", "Be", "Lu", "Ka", "Ro", "Ve", "Ni", "Da", "Fe", "Go", "Ha", "Jo", "Pe", "Si")
SECOND = ("ra", "kar", "lin", "to", "mon", "sa", "dun", "ve", "li", "bo", "rin", "ta")
FAMILY = ("Tosk", "Brun", "Vell", "Marr", "Quin", "Holt", "Dask", "Ferr", "Lomb", "Nix", "Pask", "Rudd", "Sorr",
          "Tamm", "Wick", "Yarr")
TOWNS = ("Pell", "Vesk", "Quix", "Tolo", "Mirr", "Sask", "Eloo", "Harl", "Brae", "Cobb", "Trel", "Kiv")


@dataclass(frozen=True)
class Person:
    name: str  # "Mira Tosk"
    town: str  # one of TOWNS
    goats: int  # 1..9

    @property
    def sentence(self):
        return f"{self.name} lives in {self.town} and keeps {self.goats} goats."


@dataclass(frozen=True)
class Question:
    text: str  # "Where does Mira Tosk live?"
    answer: str  # "Pell"
    person: int  # index of the person it is about
    relation: str  # "town" or "goats"


def make_people(n, seed=0):
    """`n` people with distinct names (at most 16·12·16 = 3,072), seeded."""
    rng = np.random.default_rng(seed)
    names = [f + s for f in FIRST for s in SECOND]
    pairs = [(a, b) for a in range(len(names)) for b in range(len(FAMILY))]
    if n > len(pairs):
        raise ValueError(f"at most {len(pairs)} distinct people, asked for {n}")
    pick = rng.choice(len(pairs), size=n, replace=False)
    return [Person(f"{names[pairs[i][0]]} {FAMILY[pairs[i][1]]}", TOWNS[int(rng.integers(len(TOWNS)))],
                   int(rng.integers(1, 10))) for i in pick]


def questions_about(people, offset=0):
    """Two questions per person (town, goats); `person` indices start at `offset`."""
    out = []
    for i, p in enumerate(people):
        out.append(Question(f"Where does {p.name} live?", p.town, offset + i, "town"))
        out.append(Question(f"How many goats does {p.name} keep?", str(p.goats), offset + i, "goats"))
    return out


def make_registers(people, per_doc=4):
    """Documents listing `per_doc` people each (the document set retrieval chunks)."""
    return [" ".join(p.sentence for p in people[i:i + per_doc]) for i in range(0, len(people), per_doc)]


if __name__ == "__main__":
    ppl = make_people(6)
    for doc in make_registers(ppl, 3):
        print(doc)
    for q in questions_about(ppl)[:4]:
        print(q.text, "->", q.answer)
