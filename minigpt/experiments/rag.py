r"""Retrieval-augmented reading vs answering from memory, on a toy knowledge base (data/facts.py).

A reader model learns to answer "Where does Mira Tosk live?" from a context sentence about her. It
is trained on one group of people and tested on people it never saw, so without the right sentence
in its prompt it can only guess: it still answers fluently, with a plausible town or number (a
hallucination). With retrieval, the sentence is found in the document set (chunked registers of
people) by nearest-neighbour search and put in the prompt:

    none          the question alone
    bag of words  top-1 chunk by cosine of tf-idf vectors
    mean pooled   top-1 chunk by cosine of the reader's mean hidden states
    gold          the right sentence (the reader's ceiling)

    python -c "from minigpt.experiments.rag import *; print(run_rag(RagConfig.quick())['accuracy'])"
"""
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np
from minigpt.data.assistant import world_tokenizer
from minigpt.data.facts import TOWNS, make_people, make_registers, questions_about
from minigpt.experiments.common import greedy_answers, train_chat_model
from minigpt.nn.gpt import GPTConfig
from minigpt.retrieval import VectorIndex, build_prompt, chunk_documents, fit_bag_of_words, mean_pooled


@dataclass
class RagConfig:
    out_dir: str = "runs/beyond/rag"
    seed: int = 0
    n_train_people: int = 2800  # the reader learns to read on these (2 questions each)
    n_test_people: int = 200  # the knowledge base it is tested on (never trained on)
    per_doc: int = 4  # people per register document
    chunk_words: int = 9  # one person per chunk
    epochs: int = 5
    lr: float = 2e-3
    model: GPTConfig = field(  # the chat model trained from scratch (vocab_size comes from the tokenizer)
        default_factory=lambda: GPTConfig(n_layer=2, n_head=4, n_embd=64, block_size=96))

    @classmethod
    def quick(cls, **kw):
        small = dict(n_train_people=300, n_test_people=40, epochs=1, out_dir="runs/beyond/rag_quick")
        return cls(**{**small, **kw})


def run_rag(cfg, progress=False, log=print):
    t0 = time.time()
    tok = world_tokenizer()
    people = make_people(cfg.n_train_people + cfg.n_test_people, seed=cfg.seed)
    train_p, test_p = people[:cfg.n_train_people], people[cfg.n_train_people:]
    demos = [(build_prompt(q.text, [train_p[q.person].sentence]), q.answer) for q in questions_about(train_p)]
    t = time.time()
    reader, res = train_chat_model(tok, demos, os.path.join(cfg.out_dir, "reader"), cfg.model,
                                   epochs=cfg.epochs, lr=cfg.lr,
                                   seed=cfg.seed, progress=progress)
    train_s = time.time() - t
    log(f"reader: {len(res['history']['l2'])} steps in {train_s:.0f}s, loss {res['train_loss']:.3f}")
    # the document set and its index
    chunks, _ = chunk_documents(make_registers(test_p, cfg.per_doc), max_words=cfg.chunk_words, overlap=0)
    owner = {c: i for i, c in enumerate(p.sentence for p in test_p)}
    chunk_person = np.array([owner.get(c, -1) for c in chunks])
    questions = questions_about(test_p)
    bow_vecs, bow_embed = fit_bag_of_words(chunks)
    indexes = {"bag_of_words": (VectorIndex(bow_vecs), bow_embed([q.text for q in questions])),
               "mean_pooled": (VectorIndex(mean_pooled(reader, [tok.encode_ordinary(c) for c in chunks])),
                               mean_pooled(reader, [tok.encode_ordinary(q.text) for q in questions]))}
    contexts = {"none": [[] for _ in questions], "gold": [[test_p[q.person].sentence] for q in questions]}
    recall = {}
    for name, (index, qvecs) in indexes.items():
        top, _ = index.search(qvecs, k=1)
        contexts[name] = [[chunks[i]] for i in top[:, 0]]
        recall[name] = float(np.mean(chunk_person[top[:, 0]] == [q.person for q in questions]))
    answers, accuracy = {}, {}
    for name, ctx in contexts.items():
        answers[name] = greedy_answers(reader, tok, [build_prompt(q.text, c) for q, c in zip(questions, ctx)],
                                       max_new_tokens=8)
        accuracy[name] = float(np.mean([a.strip() == q.answer for a, q in zip(answers[name], questions)]))
    log("accuracy " + ", ".join(f"{k} {v:.2f}" for k, v in accuracy.items()))
    # chance: always answering the most common town / goat count of the training people
    towns = [p.town for p in train_p]
    goats = [str(p.goats) for p in train_p]
    common = {"town": max(set(towns), key=towns.count), "goats": max(set(goats), key=goats.count)}
    baseline = float(np.mean([q.answer == common[q.relation] for q in questions]))
    wrong = [i for i, q in enumerate(questions) if answers["none"][i].strip() != q.answer]
    well_formed = lambda i: (answers["none"][i].strip() in TOWNS if questions[i].relation == "town"  # noqa: E731
                             else answers["none"][i].strip().isdigit())
    halluc = [{"question": questions[i].text, "truth": questions[i].answer, "no_retrieval": answers["none"][i],
               "well_formed": well_formed(i), "retrieved": contexts["bag_of_words"][i][0],
               "with_retrieval": answers["bag_of_words"][i]}
              for i in sorted(wrong, key=lambda i: not well_formed(i))[:4]]  # fluent, well-formed and wrong first
    return {"config": dataclasses.asdict(cfg), "accuracy": accuracy, "retrieval_recall_at_1": recall,
            "well_formed_without_retrieval": float(np.mean([well_formed(i) for i in range(len(questions))])),
            "majority_baseline": baseline, "n_questions": len(questions), "n_chunks": len(chunks),
            "hallucinations": halluc, "train_s": train_s, "wall_s": time.time() - t0, "reader": reader,
            "tokenizer": tok}
