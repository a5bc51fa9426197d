r"""The pretraining corpus of the toy assistant world: documents, not conversations.

The web that GPT was pretrained on states facts and shows skills in passing, in prose. So do
these documents: "In Zorbia the capital is Quix.", "23 plus 45 makes 68.", "abcd backwards is
dcba.", "Robbing a bank is wrong." A model pretrained on them knows things but does not answer
questions: asked "What is 23+45?" it continues the document (the lesson "base models complete
documents"). A few documents (`qa_fraction`) are quiz sheets, "Q: What is 23+45?\nA: 68", so
that few-shot prompting the base model works somewhat.

What the corpus may contain is a choice, per task. Skills (by default add, reverse, sort, count)
are shown only on train-split problems, so answering an eval question takes the skill, not
recall. Knowledge (`world.knowledge_tasks`, by default the invented facts of `lookup`) is stated
in full, eval questions included, in prose and in quiz lines: knowing the facts is the point, SFT
teaches only the format of an answer, and the knowledge has to come from pretraining. (A tiny
model seldom links a fact seen only in prose to a question about it, hence the quiz lines.)
With a small `add_max`, "add" can be treated as knowledge too: the addition table.

    python -c "from minigpt.data.assistant import make_pretrain_corpus; print(*make_pretrain_corpus(6), sep='\n\n')"
"""
import numpy as np

from minigpt.data.assistant.world import HARMS, TASKS, WorldConfig, _seeded_rng, default_world, sample_problem

# ----------------------------------------------------------------------------
# Sentences, one kind of document each

HEADINGS = {
    "math": ("Notes from math class.", "Sums I worked out today.", "Adding is easy."),
    "words": ("A page of word games.", "Fun with letters."),
    "order": ("Putting digits in order.", "Sorting practice."),
    "atlas": ("A short atlas.", "Facts about far lands.", "Travel notes."),
    "manners": ("On good manners.", "What a good helper does."),
    "quiz": ("Quiz sheet.", "Practice questions."),
}
ADD = ("{a} plus {b} makes {s}.", "If you add {a} and {b} you get {s}.", "{a} and {b} add up to {s}.")
REVERSE = ("{w} backwards is {r}.", "Read {w} from the end and you get {r}.")
COUNT = ("In {w} the letter {l} shows up {c} times.", "The word {w} has {c} of the letter {l}.")
SORT = ("Put {xs} in order and you get {ys}.", "Sorted, {xs} becomes {ys}.")
CAPITAL = ("In {e} the capital is {v}.", "{v} is the capital of {e}.")
CURRENCY = ("People in {e} pay with the {v}.", "The money of {e} is called {v}.")
MANNERS = ("{g} a {n} is wrong.", "If someone asks how to {verb} a {n}, say: Sorry, I can't help.",
           "A good helper will not help anyone {verb} a {n}.")


def _pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def _problem(task: str, rng: np.random.Generator, world: WorldConfig):
    """A problem the corpus may state: any problem of a knowledge task, else a train problem."""
    return sample_problem(task, rng, world, None if task in world.knowledge_tasks else "train")


def _sentence(kind: str, rng: np.random.Generator, world: WorldConfig) -> str:
    if kind == "math":
        p = _problem("add", rng, world)
        return _pick(rng, ADD).format(a=p.meta["a"], b=p.meta["b"], s=p.answer)
    if kind == "words":
        if rng.random() < 0.5:
            p = _problem("reverse", rng, world)
            return _pick(rng, REVERSE).format(w=p.meta["word"], r=p.answer)
        p = _problem("count", rng, world)
        return _pick(rng, COUNT).format(w=p.meta["word"], l=p.meta["letter"], c=p.answer)
    if kind == "order":
        p = _problem("sort", rng, world)
        return _pick(rng, SORT).format(xs=" ".join(map(str, p.meta["numbers"])), ys=p.answer)
    if kind == "atlas":
        p = _problem("lookup", rng, world)
        return _pick(rng, CAPITAL if p.meta["relation"] == "capital" else CURRENCY).format(e=p.meta["country"], v=p.answer)
    if kind == "manners":
        verb = _pick(rng, sorted(HARMS))
        gerund, nouns = HARMS[verb]
        return _pick(rng, MANNERS).format(g=gerund, verb=verb, n=_pick(rng, nouns))
    if kind == "quiz":
        p = _problem(_pick(rng, TASKS), rng, world)
        return f"Q: {p.text}\nA: {p.answer}"
    raise ValueError(f"unknown document kind {kind!r}")


# ----------------------------------------------------------------------------
# Documents

def make_document(kind: str, rng: np.random.Generator, world: WorldConfig | None = None) -> str:
    """One document: a heading and 3 to 6 sentences of one kind (quiz lines go one per line).
    e.g. "Notes from math class. 12 plus 7 makes 19. If you add 30 and 4 you get 34. ..."."""
    world = world or default_world()
    heading = _pick(rng, HEADINGS[kind])
    sentences = [_sentence(kind, rng, world) for _ in range(int(rng.integers(3, 7)))]
    return ("\n" if kind == "quiz" else " ").join([heading] + sentences)


def make_pretrain_corpus(n_docs: int = 2000, seed: int | None = None,
                         world: WorldConfig | None = None) -> list[str]:
    """`n_docs` documents (about 150 characters each); join them with a separator of your choice.

    A fraction `world.qa_fraction` are quiz sheets; the rest are split evenly among prose about
    sums, word games, sorting, the atlas of invented countries, and manners (harmful requests).
    Deterministic in (n_docs, seed, world).
    """
    world = world or default_world()
    if not (isinstance(n_docs, (int, np.integer)) and n_docs >= 0):
        raise ValueError(f"n_docs must be a non-negative int, got {n_docs!r}")
    rng = _seeded_rng(seed, world, stream=3)
    kinds = ("math", "words", "order", "atlas", "manners", "quiz")
    prose = (1.0 - world.qa_fraction) / (len(kinds) - 1)
    probs = np.array([prose] * (len(kinds) - 1) + [world.qa_fraction])
    return [make_document(kinds[i], rng, world) for i in rng.choice(len(kinds), size=n_docs, p=probs / probs.sum())]
