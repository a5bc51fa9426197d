"""PPO: the batched sampler, response positions, the first minibatch is on-policy (ratio 1,
clipfrac 0), lr = 0 keeps every log-ratio at 0, and clear errors for wrong checkpoints."""
import dataclasses

import numpy as np
import pytest
from align_helpers import tiny_checkpoints, tiny_gpt, world_tok

from minigpt.data.assistant import make_pretrain_corpus, sample_prompts
from minigpt.generate import generate
from minigpt.generate import sample_batch
from minigpt.scoring import response_positions
from minigpt.nn.heads import RewardModel
from minigpt.stages import ppo
from minigpt.stages.common import save_stage


@pytest.fixture(scope="module")
def tok():
    return world_tok()


def _cfg(tmp_path, **kw):
    base = dict(out_dir=str(tmp_path), iters=2, rollout_batch=8, minibatch_size=4, ppo_epochs=2, max_new_tokens=12,
                optim=dict(lr=1e-3), seed=0)
    base.update(kw)
    return ppo.PPOConfig(**base)


def _models(tok):
    return tiny_gpt(tok, seed=1), tiny_gpt(tok, seed=1), RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=3)


# -----------------------------------------------------------------------------
# sampling

def test_response_positions_by_hand():
    r"""prompt_lens [2, 3], resp_lens [2, 1]: row 0's tokens sit at 2, 3 and are predicted from 1, 2;
    row 1's token sits at 3, predicted from 2; its second slot is padding."""
    rows, cols, mask = response_positions([2, 3], [2, 1])
    np.testing.assert_array_equal(cols, [[1, 2], [2, 0]])
    np.testing.assert_array_equal(mask, [[1, 1], [1, 0]])
    np.testing.assert_array_equal(rows, [[0, 0], [1, 1]])


def test_sample_batch_greedy_matches_generate(tok):
    model = tiny_gpt(tok, seed=7)
    prompts = [[1, 2, 3], [4, 5], [6, 7, 8], [9]]
    out = sample_batch(model, prompts, max_new_tokens=6, stop_ids=(0,), temperature=0)
    for p, o in zip(prompts, out):
        assert o == generate(model, p, max_new_tokens=6, temperature=0, stop_ids=(0,))
    again = sample_batch(model, prompts, 6, (0,), temperature=1.0, seed=3)
    assert again == sample_batch(model, prompts, 6, (0,), temperature=1.0, seed=3)  # seeded
    with pytest.raises(ValueError, match="block_size=72"):
        sample_batch(model, [[1] * 72], 4, (0,))


def test_sample_batch_stops_at_the_stop_token(tok):
    model = tiny_gpt(tok, seed=8)
    out = sample_batch(model, [[1, 2]] * 20, max_new_tokens=30, stop_ids=(3, 4), temperature=3.0, seed=0)
    for o in out:
        assert 1 <= len(o) <= 30
        assert all(t not in (3, 4) for t in o[:-1])  # nothing after a stop token
        assert len(o) == 30 or o[-1] in (3, 4)


# -----------------------------------------------------------------------------
# the update

def test_first_minibatch_is_on_policy(tmp_path, tok):
    """Before any update π_θ = π_old: ratio 1 and clipfrac 0 in the first minibatch of every iteration."""
    policy, ref, rm = _models(tok)
    res = ppo.train(_cfg(tmp_path), policy, ref, rm, tok, sample_prompts(32, seed=0), progress=False)
    h = res["history"]
    assert all(abs(r - 1.0) < 1e-5 for r in h["first_ratio"])
    assert h["first_clipfrac"] == [0.0, 0.0]
    assert max(h["first_log_ratio_absmax"]) < 1e-5
    assert h["kl"][0] == pytest.approx(0.0, abs=1e-5)  # the first rollout: policy = reference
    assert max(h["clipfrac"]) > 0.0  # lr 1e-3 moves the policy in later minibatches


def test_zero_learning_rate_keeps_log_ratios_at_zero(tmp_path, tok):
    policy, ref, rm = _models(tok)
    before = {k: v.copy() for k, v in policy.state_dict().items()}
    ptx = np.array(tok.encode("<|endoftext|>".join(make_pretrain_corpus(20, seed=0)), allowed_special="all"))
    cfg = _cfg(tmp_path, ptx_coef=0.5, iters=2)
    cfg.optim.lr = 0.0  # the config refuses lr = 0 (it trains nothing); set afterwards on purpose to freeze the policy
    res = ppo.train(cfg, policy, ref, rm, tok, sample_prompts(32, seed=0), ptx_data=ptx, progress=False)
    h = res["history"]
    assert max(h["first_log_ratio_absmax"]) < 1e-5
    assert max(h["clipfrac"]) == 0.0 and max(abs(k) for k in h["kl"]) < 1e-4
    assert all(p is not None for p in h["ptx_loss"])
    for k, v in policy.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_ppo_step_stats_are_recorded(tmp_path, tok):
    policy, ref, rm = _models(tok)
    res = ppo.train(_cfg(tmp_path, target_kl=1.0, rbrm_coef=0.5), policy, ref, rm, tok, sample_prompts(32, seed=0),
                    progress=False)
    h = res["history"]
    for key in ("score", "rm_score", "gold", "kl", "beta", "entropy", "resp_len", "pg_loss", "vf_loss"):
        assert len(h[key]) == 2 and all(np.isfinite(h[key]))
    assert 0.0 < h["entropy"][0] <= np.log(tok.vocab_size) + 1e-6
    assert h["beta"][1] != h["beta"][0]  # the adaptive controller moved β


# -----------------------------------------------------------------------------
# errors

def test_reward_model_as_policy_is_a_clear_error(tmp_path):
    paths, _ = tiny_checkpoints(tmp_path)
    with pytest.raises(ValueError, match="policy must be an SFT .* 'reward' checkpoint"):
        ppo.load_for_ppo(paths["reward"], paths["reward"])
    with pytest.raises(ValueError, match="'sft' checkpoint, expected 'reward'"):
        ppo.load_for_ppo(paths["sft"], paths["sft"])  # a policy given as the reward model
    policy, ref, rm, tok = ppo.load_for_ppo(paths["sft"], paths["reward"])
    assert isinstance(rm, RewardModel)


def test_mismatched_tokenizer_is_a_clear_error(tmp_path, tok):
    from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, CharTokenizer
    paths, _ = tiny_checkpoints(tmp_path)
    other = CharTokenizer.train("abcdefghijklmnopqrstuvwxyz0123456789 ?+", special_tokens=CHAT_SPECIAL_TOKENS)
    rm = RewardModel.from_gpt(tiny_gpt(other), seed=0)
    save_stage(str(tmp_path / "rm_other"), rm, other, "reward")
    with pytest.raises(ValueError, match="different tokenizer"):
        ppo.load_for_ppo(paths["sft"], str(tmp_path / "rm_other"))
    with pytest.raises(ValueError, match="vocab_size"):
        ppo.check_compatible(tiny_gpt(tok), tiny_gpt(tok), rm)


def test_prompt_longer_than_context_is_a_clear_error(tmp_path, tok):
    policy, ref, rm = _models(tok)
    small = tiny_gpt(tok, block_size=16)
    long_prompts = [p for p in sample_prompts(64, seed=0) if len(p.text) > 14][:8]
    with pytest.raises(ValueError, match="context window is block_size=16"):
        ppo.train(_cfg(tmp_path), small, tiny_gpt(tok, block_size=16), rm, tok, long_prompts, progress=False)


def test_config_round_trips_through_the_cli():
    from minigpt.config import parse_config
    cfg = parse_config(ppo.PPOConfig, ["--iters", "3", "--target-kl", "2.5", "--no-whiten-advantages"])
    assert dataclasses.asdict(cfg) == {**dataclasses.asdict(ppo.PPOConfig()), "iters": 3, "target_kl": 2.5,
                                       "whiten_advantages": False}
