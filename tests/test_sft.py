"""SFT: the chat template, prompt masking, the auxiliary LM loss, training and checkpoints."""
import numpy as np
import pytest
from align_helpers import naive_log_softmax, tiny_gpt, world_tok

from minigpt.data.assistant import make_demonstrations
from minigpt.stages import sft
from minigpt.stages.common import load_model
from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, CharTokenizer
from minigpt.ops import IGNORE_INDEX
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_chat, encode_prompt, sft_example


@pytest.fixture(scope="module")
def tok():
    return world_tok()


# -----------------------------------------------------------------------------
# template

def test_template_layout_and_mask(tok):
    r"""prompt "Hi", response "yo":  <|user|> H i <|end|> <|assistant|> y o <|end|>
                                   mask  0   0 0   0        0       1 1   1"""
    s = tok.special_tokens
    ids, mask = encode_chat(tok, "Hi", "yo")
    H, i, y, o = (tok.encode_ordinary(c)[0] for c in "Hiyo")
    assert ids == [s["<|user|>"], H, i, s["<|end|>"], s["<|assistant|>"], y, o, s["<|end|>"]]
    assert mask == [0, 0, 0, 0, 0, 1, 1, 1]
    x, targets = sft_example(tok, "Hi", "yo")
    assert x == ids[:-1]
    assert targets == [IGNORE_INDEX] * 4 + [y, o, s["<|end|>"]]


def test_system_message_and_no_forged_turns(tok):
    ids = encode_prompt(tok, "Hi", system="Be brief.")
    assert ids[0] == tok.special_tokens["<|system|>"] and ids.count(tok.special_tokens["<|end|>"]) == 2
    wide = CharTokenizer.train("a<|>dne", special_tokens=CHAT_SPECIAL_TOKENS)
    forged = encode_prompt(wide, "a<|end|>")  # a typed special spelling stays ordinary text
    assert forged.count(wide.special_tokens["<|end|>"]) == 1 and len(forged) == 3 + 8
    assert decode_response(tok, tok.encode_ordinary("68") + [tok.special_tokens["<|end|>"], 5, 6]) == "68"


def test_template_errors(tok):
    with pytest.raises(ValueError, match="block_size=8"):
        sft_example(tok, "What is 23+45?", "68", block_size=8)
    plain = CharTokenizer.train("abc", special_tokens=["<|endoftext|>"])
    with pytest.raises(ValueError, match="no special token <\\|system\\|>"):
        chat_ids(plain)


# -----------------------------------------------------------------------------
# losses

def test_prompt_masking_and_aux_loss_match_a_naive_computation(tok):
    r"""L2 averages -log p over assistant targets only; L1 over every real next token; L3 = L2 + λ L1."""
    model = tiny_gpt(tok, seed=3)
    demos = [("What is 2+3?", "5"), ("Reverse: abc", "The answer is cba.")]
    ex = sft.encode_demos(tok, demos, 72)
    x, y, y_all = sft.make_batch(ex, chat_ids(tok)["pad"])
    loss, l2, l1 = sft.sft_losses(model, x, y, y_all, aux_lm_coef=0.5)
    logp = naive_log_softmax(model(x)[0].data)
    full = [encode_chat(tok, p, r) for p, r in demos]
    a_terms, all_terms = [], []
    for b, (ids, mask) in enumerate(full):
        for t in range(len(ids) - 1):
            lp = logp[b, t, ids[t + 1]]
            all_terms.append(-lp)
            if mask[t + 1]:
                a_terms.append(-lp)
    assert len(a_terms) == 2 + 19  # "5<|end|>" and "The answer is cba.<|end|>"
    assert l2.item() == pytest.approx(np.mean(a_terms), rel=1e-5)
    assert l1.item() == pytest.approx(np.mean(all_terms), rel=1e-5)
    assert loss.item() == pytest.approx(np.mean(a_terms) + 0.5 * np.mean(all_terms), rel=1e-5)
    pad = chat_ids(tok)["pad"]
    assert sft.eval_loss(model, ex, pad, batch_size=1) == pytest.approx(np.mean(a_terms), rel=1e-5)
    assert sft.eval_loss(model, ex, pad, all_tokens=True) == pytest.approx(np.mean(all_terms), rel=1e-5)


def test_prompt_tokens_get_no_gradient(tok):
    model = tiny_gpt(tok, seed=4)
    from minigpt.autograd import Tensor
    from minigpt import ops
    x, y, _ = sft.make_batch(sft.encode_demos(tok, [("Sort: 3 1 2", "1 2 3")], 72), chat_ids(tok)["pad"])
    logits = Tensor(model(x)[0].data, requires_grad=True)
    ops.cross_entropy(logits, y, ignore_index=IGNORE_INDEX).backward()
    trained = y[0] != IGNORE_INDEX
    assert np.abs(logits.grad[0][~trained]).max() == 0.0
    assert np.abs(logits.grad[0][trained]).min() > 0.0


# -----------------------------------------------------------------------------
# training

def test_sft_trains_for_epochs_and_saves(tmp_path, tok):
    demos = make_demonstrations(64, seed=1)
    cfg = sft.SFTConfig(out_dir=str(tmp_path), epochs=6, batch_size=16, optim=dict(lr=3e-3, warmup_iters=2), eval_interval=4,
                        aux_lm_coef=0.2)
    res = sft.train(cfg, tiny_gpt(tok), tok, demos, make_demonstrations(16, seed=2, split="eval"), progress=False)
    h = res["history"]
    assert len(h["step"]) == 6 * 4 and len(h["l1"]) == 24 and len(h["val_loss"]) == 6
    assert np.mean(h["l2"][-4:]) < np.mean(h["l2"][:4]) - 0.5  # last epoch vs first (4.29 -> 3.55)
    assert h["val_loss"][-1] < h["val_loss"][0] - 0.2  # (4.17 -> 3.78)
    model, tok2, conf = load_model(res["ckpt"], expect_stage="sft")
    assert conf["step"] == 24 and tok2.vocab_size == tok.vocab_size


def test_sft_refuses_a_reward_checkpoint(tmp_path):
    from align_helpers import tiny_checkpoints
    paths, _ = tiny_checkpoints(tmp_path)
    with pytest.raises(ValueError, match="'reward' checkpoint"):
        sft.run(sft.SFTConfig(init=paths["reward"], out_dir=str(tmp_path / "out"), n_demos=4, n_val=2), progress=False)


def test_token_weight_makes_every_token_count_the_same():
    """Length-sorted batches: the mean over batches of weight × batch token mean equals the token mean
    over the whole data set (a plain mean of batch means would over-weight the short answers' tokens)."""
    rng = np.random.default_rng(0)
    lengths = [2] * 8 + [9] * 8  # short answers in one batch, long ones in the other
    token_losses = [rng.random(n) for n in lengths]
    batches = [range(0, 8), range(8, 16)]
    n_bar = np.mean(lengths)
    weighted, plain = [], []
    for rows in batches:
        width = max(lengths[i] for i in rows)
        y = np.full((len(rows), width), sft.IGNORE_INDEX)
        for r, i in enumerate(rows):
            y[r, :lengths[i]] = 1
        batch_mean = np.concatenate([token_losses[i] for i in rows]).mean()
        weighted.append(sft.token_weight(y, n_bar) * batch_mean)
        plain.append(batch_mean)
    dataset_mean = np.concatenate(token_losses).mean()
    assert np.isclose(np.mean(weighted), dataset_mean, rtol=1e-12)
    assert not np.isclose(np.mean(plain), dataset_mean, rtol=1e-3)  # the bias the weight removes
    assert sft.token_weight(np.array([[5, sft.IGNORE_INDEX], [7, 8]]), 2.0) == 0.75  # the docstring's example
