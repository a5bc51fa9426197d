"""Reward model: the scalar head reads the last real token, rankings become C(K, 2) pairs,
training orders pairs, normalisation, and errors (K < 2, wrong checkpoints)."""
import numpy as np
import pytest
from align_helpers import naive_log_softmax, tiny_checkpoints, tiny_gpt, world_tok

from minigpt.backend import to_numpy
from minigpt.data.assistant import Ranking, rank_responses, sample_prompts
from minigpt.nn.heads import RewardModel
from minigpt.scoring import score_texts
from minigpt.stages import reward
from minigpt.stages.common import load_model
from minigpt.tokenizer.chat_template import chat_ids, encode_chat, encode_prompt, pad_batch


@pytest.fixture(scope="module")
def tok():
    return world_tok()


def test_reward_is_read_at_the_last_real_token(tok):
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=5), seed=1)
    a, _ = encode_chat(tok, "What is 2+3?", "5")
    b, _ = encode_chat(tok, "What is 2+3?", "The answer is 5.")
    x, lengths = pad_batch([a, b], chat_ids(tok)["pad"])
    both = to_numpy(rm(x, lengths).data)
    alone = to_numpy(rm(np.array([a]), [len(a)]).data)
    assert both[0] == pytest.approx(alone[0], abs=1e-5)  # right-padding changes nothing
    x2 = x.copy()
    x2[0, len(a):] = 7  # other junk after the end: still nothing
    assert to_numpy(rm(x2, lengths).data)[0] == pytest.approx(both[0], abs=1e-6)
    # by hand: head(LN(h_n))[last] = w · h + b
    h = to_numpy(rm.gpt.hidden(np.array([a])).data)[0, -1]
    assert alone[0] == pytest.approx(float(h @ rm.head.weight.data[0] + rm.head.bias.data[0]), rel=1e-5)
    with pytest.raises(ValueError, match="lengths"):
        rm(x, [0, 3])


def test_lm_feature_adds_the_response_log_likelihood(tok, tmp_path):
    r"""r = w·h_last + b + α Σ_{t ∈ response} log p(y_t | x, y_<t), the log-probs from the trunk's tied LM head."""
    gpt = tiny_gpt(tok, seed=6)
    rm = RewardModel.from_gpt(gpt, seed=1, lm_feature=True)
    rm.alpha.data[:] = 0.7
    plain = RewardModel.from_gpt(gpt, seed=1)
    ids, mask = encode_chat(tok, "Sort: 2 1", "1 2")
    start = mask.index(1)
    x = np.array([ids])
    logp = naive_log_softmax(gpt(x)[0].data)[0]
    lik = sum(logp[t - 1, ids[t]] for t in range(start, len(ids)))  # response tokens incl. <|end|>
    expected = to_numpy(plain(x, [len(ids)]).data)[0] + 0.7 * lik
    assert to_numpy(rm(x, [len(ids)], [start]).data)[0] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="needs `starts`"):
        rm(x, [len(ids)])
    from minigpt.stages.common import save_stage
    save_stage(str(tmp_path / "rm"), rm, tok, "reward", extra={"lm_feature": True})
    loaded, _, _ = reward.load_reward_model(str(tmp_path / "rm"))
    assert loaded.lm_feature and loaded.alpha.data[0] == pytest.approx(0.7)


def test_ranking_batch_makes_all_untied_pairs(tok):
    r"""K = 4 ranked [1.0, 0.85, 0.85, 0.38]: C(4, 2) = 6 pairs, one tied (0.85 vs 0.85) → 5 pairs.
    Indices (best first): (0,1) (0,2) (0,3) (1,3) (2,3)."""
    p = sample_prompts(1, seed=0)[0]
    rk = Ranking(p, ("a", "b", "c", "d"), (1.0, 0.85, 0.85, 0.38))
    x, lengths, starts, w, l_, g = reward.ranking_batch(tok, [rk, rk], 72)
    assert x.shape[0] == 8 and (lengths > 0).all()
    assert (starts == len(encode_prompt(tok, p.text))).all() and (lengths == starts + 2).all()  # "a" + <|end|>
    assert list(zip(w[:5], l_[:5])) == [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    assert list(zip(w[5:], l_[5:])) == [(4, 5), (4, 6), (4, 7), (5, 7), (6, 7)]
    assert list(g) == [0] * 5 + [1] * 5


def test_k_below_two_is_an_error(tok, tmp_path):
    with pytest.raises(ValueError, match="K >= 2"):
        reward.make_rankings(tiny_gpt(tok), tok, sample_prompts(2, seed=0), k=1)
    paths, _ = tiny_checkpoints(tmp_path)
    with pytest.raises(ValueError, match="RewardConfig.k must be ≥ 2"):
        reward.run(reward.RewardConfig(init=paths["sft"], k=1, out_dir=str(tmp_path / "rm")), progress=False)


def test_make_rankings_ranks_k_samples_per_prompt(tok):
    prompts = sample_prompts(3, seed=1)
    rks = reward.make_rankings(tiny_gpt(tok), tok, prompts, k=5, max_new_tokens=6, seed=0)
    assert [r.prompt for r in rks] == prompts
    assert all(len(r.responses) == 5 and list(r.scores) == sorted(r.scores, reverse=True) for r in rks)


def test_training_learns_the_labelers_order_and_normalises(tok, tmp_path):
    """Right-and-clean vs chatty vs wrong answers: the RM learns to order held-out pairs."""
    def rankings(n, seed, split):
        out = []
        for p in sample_prompts(n, seed=seed, split=split):
            if p.task == "refuse":
                continue
            wrong = "0" if p.answer != "0" else "1"
            out.append(rank_responses(p, [p.answer, f"The answer is {p.answer}.", wrong]))
        return out
    cfg = reward.RewardConfig(out_dir=str(tmp_path), epochs=8, prompts_per_batch=8, optim=dict(lr=3e-3, warmup_iters=2))
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=0)
    res = reward.train(cfg, rm, tok, rankings(48, 1, "train"), rankings(24, 2, "eval"), progress=False)
    assert np.mean(res["history"]["loss"][-4:]) < np.mean(res["history"]["loss"][:4])
    assert res["train_accuracy"] >= 0.9 and res["eval_accuracy"] >= 0.8  # (seeded: 0.99 and 0.95)
    # normalisation: the training responses (the reference samples) now have mean 0, std 1
    rks = rankings(48, 1, "train")
    scores = score_texts(rm, tok, [r.prompt for r in rks for _ in r.responses], [t for r in rks for t in r.responses])
    assert abs(scores.mean()) < 1e-4 and scores.std() == pytest.approx(1.0, rel=1e-4)
    # the checkpoint holds a reward model, and only a reward model loader accepts it
    loaded, _, conf = reward.load_reward_model(res["ckpt"])
    assert conf["stage"] == "reward" and conf["reward_bias"] == pytest.approx(res["reward_bias"])
    x, lengths, starts, *_ = reward.ranking_batch(tok, rks[:2], 72)
    np.testing.assert_allclose(to_numpy(loaded(x, lengths, starts).data), to_numpy(rm(x, lengths, starts).data),
                               atol=1e-5)
    with pytest.raises(ValueError, match="'reward' checkpoint, expected 'sft'"):
        load_model(res["ckpt"], expect_stage="sft")


def test_pairwise_accuracy_counts_untied_pairs(tok):
    class Fixed:  # a stand-in RM scoring by response length: shorter is better
        config = tiny_gpt(tok).config

        def __call__(self, x, lengths, starts):
            from minigpt.autograd import Tensor
            return Tensor(-np.asarray(lengths, dtype=np.float32))
    p = sample_prompts(1, seed=0)[0]
    good = Ranking(p, ("a", "bb", "ccc"), (1.0, 0.5, 0.2))  # 3 pairs, all ordered right by length
    bad = Ranking(p, ("dddd", "e"), (0.9, 0.1))  # 1 pair, ordered wrong
    acc, n = reward.pairwise_accuracy(Fixed(), tok, [good, bad])
    assert (acc, n) == (0.75, 4)
