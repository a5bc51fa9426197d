r"""The toy assistant world: a small universe in which every stage of ChatGPT's recipe is measurable.

Why a toy world? To train an assistant, InstructGPT needed three things besides a pretrained
model: people who wrote demonstrations, people who ranked samples, and a way to tell whether the
result got better. We cannot hire people, so we build a world where a program plays all three
roles, and where every question has a known answer, so nothing has to be taken on faith.

The world has six kinds of questions, each short enough for a tiny GPT (prompt <= ~27 chars,
answer <= ~20 chars, ALPHABET = letters, digits, " .,?!:'+" and newline):

    add      What is 23+45?          -> 68
    reverse  Reverse: abcd           -> dcba
    sort     Sort: 3 1 2             -> 1 2 3
    count    How many b in abbcab?   -> 3
    lookup   Capital of Zorbia?      -> Quix      (facts of invented countries; only the corpus says them)
    refuse   How to steal a bike?    -> Sorry, I can't help.

and it provides, stage by stage:

    pretraining  make_pretrain_corpus   documents that state facts and skills in prose, not Q/A chat:
                                        a base model learns them but completes documents, it doesn't answer
    SFT          make_demonstrations    (prompt, response) pairs from imperfect contractors: some answers
                                        wrong (error_rate), some chatty (sloppiness); SFT copies both flaws
    RM           rank_responses         the gold labeler ranks K sampled responses, best first;
                 ranking_pairs          ... and one ranking gives C(K, 2) (winner, loser) pairs
    RL           rule_based_reward      GPT-4-style rules: refuse harmful requests, don't refuse harmless
                                        ones, keep the answer format, be short
    evaluation   gold_score, win_rate, exact_match
                                        the hidden gold labeler, standing in for human raters

The gold labeler gives 1.0 to a right, clean answer, 0.6-0.99 to a right answer with chatter,
at most 0.4 to a near miss and 0 to a refusal of a fair question (labeler.py has the rules and
worked numbers). Because contractors are sloppy, a policy that learns to drop the chatter beats
its SFT teacher: if SFT is chatty on a fraction s of prompts and RL removes it without losing
accuracy, the RL policy wins about 0.5 + s/2 of the comparisons (ties count half).
Subtle: greedy decoding picks the most likely *token*, and the chatter is split over five styles,
so even at sloppiness 0.7 a greedy SFT model mostly starts with the bare answer; sample
(temperature 1, as the report card does) to see the contractors' habits.

What a tiny GPT learns here (the pipeline's default run: 3 layers, 96 wide, 2000 pretraining and
3600 SFT steps; answers sampled at temperature 1 on eval prompts): SFT is right about 60% of the
time (reverse and sort ~80%, add ~70%, count ~45%) and chatty about 70% of the time; held-out
facts ~0% after SFT (it hallucinates another country's capital, though the base model completes
their quiz lines two times out of three). With add_carry=True, add drops to a few percent:
carries are beyond it. The chatter and the sampled mistakes are the room RL has to improve.

Train and eval prompts never share a problem (world.py explains the split), so evaluation is
held out from SFT, RM and RL. The pretraining corpus shows skills (add, reverse, sort, count)
on train problems only, but states knowledge (`knowledge_tasks`: the facts) in full, as the web
would: SFT must teach the model to *use* what pretraining put in it (corpus.py).

    from minigpt.data.assistant import *
    world = default_world()                               # WorldConfig(seed=0, error_rate=0.2, ...)
    docs = make_pretrain_corpus(2000, seed=0)             # list[str]
    demos = make_demonstrations(5000, seed=1)             # list[(Prompt, str)]
    prompts = sample_prompts(500, seed=2, split="eval")   # list[Prompt]
    ranking = rank_responses(prompts[0], ["68", "67", "The answer is 68."])
    pairs = ranking_pairs(ranking)                        # [(winner, loser), ...], 3 of them

    minigpt world            # print a sample of everything
"""
from minigpt.data.assistant.contractors import make_demonstrations, mistake, sloppify
from minigpt.data.assistant.corpus import make_pretrain_corpus
from minigpt.data.assistant.labeler import (Grade, Ranking, edit_distance, exact_match, gold_grade, gold_score,
                                            gold_scores, rank_responses, ranking_pairs, win_rate)
from minigpt.data.assistant.rbrm import rbrm_breakdown, rule_based_reward
from minigpt.data.assistant.tokens import chars_per_token, pretrain_tokens, world_tokenizer
from minigpt.data.assistant.world import (ALPHABET, ANSWER_FORMAT, FACTS, REFUSAL, REFUSAL_RE, TASKS, Prompt,
                                          WorldConfig, default_world, sample_prompts, split_of)

__all__ = [
    "ALPHABET", "ANSWER_FORMAT", "FACTS", "REFUSAL", "REFUSAL_RE", "TASKS", "Prompt", "WorldConfig",
    "default_world", "sample_prompts", "split_of",
    "make_demonstrations", "mistake", "sloppify", "make_pretrain_corpus",
    "Grade", "Ranking", "edit_distance", "exact_match", "gold_grade", "gold_score", "gold_scores",
    "rank_responses", "ranking_pairs", "win_rate",
    "rbrm_breakdown", "rule_based_reward", "chars_per_token", "pretrain_tokens", "world_tokenizer",
]
