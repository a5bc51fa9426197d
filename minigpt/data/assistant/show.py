"""`minigpt world`: print a sample of the toy assistant world, to see what each stage trains on.

    minigpt world
    minigpt world --n 10 --seed 3 --split eval
"""
from dataclasses import dataclass
from typing import Literal

from minigpt.config import Config, nonnegative, positive
from minigpt.data.assistant.contractors import make_demonstrations
from minigpt.data.assistant.corpus import make_pretrain_corpus
from minigpt.data.assistant.labeler import gold_grade, rank_responses, ranking_pairs
from minigpt.data.assistant.rbrm import rule_based_reward
from minigpt.data.assistant.world import default_world

# ----------------------------------------------------------------------------
# CLI


@dataclass
class ShowConfig(Config):
    n: int = 6  # how many examples per section
    seed: int = 0  # random seed
    split: Literal["train", "eval"] = "train"  # which prompts to show

    def validate(self):
        positive(self, "n")
        nonnegative(self, "seed")


def main(args) -> int:
    world = default_world()
    print(f"# world: {world}\n\n# pretraining documents")
    for doc in make_pretrain_corpus(args.n, seed=args.seed, world=world):
        print("  " + doc.replace("\n", "\n  "))
    print("\n# contractor demonstrations: prompt -> response  [gold score, RBRM reward]")
    demos = make_demonstrations(args.n, seed=args.seed, split=args.split, world=world)
    for prompt, response in demos:
        grade = gold_grade(prompt, response)
        print(f"  {prompt.text:<28} -> {response!r:<38} [gold {grade.score:.2f}, rbrm {rule_based_reward(prompt, response):+.1f}]"
              f"  (right answer: {prompt.answer})")
    if demos:
        prompt = demos[0][0]
        ranking = rank_responses(prompt, [response for _, response in demos[:1]] + [prompt.answer, "I like cats."])
        print(f"\n# a ranking for {prompt.text!r}, best first, and its pairs")
        for response, score in zip(ranking.responses, ranking.scores):
            print(f"  {score:.2f}  {response!r}")
        for winner, loser in ranking_pairs(ranking):
            print(f"  {winner!r} > {loser!r}")
    return 0
