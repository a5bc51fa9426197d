"""GPT-1 fine-tuning: the L3 = L2 + λ·L1 mixing, LM targets, encoding, the classifier and the linear probe."""
import numpy as np
import pytest

from minigpt.experiments.classify import (accuracy, classify_losses, encode_texts, features, finetune, linear_probe,
                                          lm_targets)
from minigpt.nn.classifier import SequenceClassifier
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.ops import IGNORE_INDEX
from minigpt.tokenizer import CharTokenizer


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _model(seed=0):
    return SequenceClassifier(GPTConfig(vocab_size=9, block_size=6, n_layer=1, n_head=2, n_embd=16), 3, seed=seed)


def _batch():
    ids = np.array([[1, 2, 3, 4, 0, 0], [5, 6, 7, 8, 1, 2], [3, 3, 0, 0, 0, 0]])
    return ids, np.array([4, 6, 2]), np.array([0, 2, 1])


def test_l3_is_l2_plus_lambda_l1():
    """L2 = mean_b -log softmax(class logits)[y_b];  L1 = mean over real next tokens of -log P(x_{t+1}|x_≤t),
    both computed here in float64 from the model's logits, independently of the code under test."""
    m = _model()
    ids, lengths, labels = _batch()
    class_logits, lm_logits = (t.numpy().astype(np.float64) for t in m(ids, lengths))
    l2_ref = -_log_softmax(class_logits)[np.arange(3), labels].mean()
    lp = _log_softmax(lm_logits)
    terms = [-lp[b, t, ids[b, t + 1]] for b in range(3) for t in range(lengths[b] - 1)]
    assert len(terms) == 3 + 5 + 1
    l1_ref = np.mean(terms)
    for lam in (0.0, 0.5, 2.0):
        l3, l2, l1 = classify_losses(m, ids, lengths, labels, aux_lm_coef=lam)
        assert l2.item() == pytest.approx(l2_ref, rel=1e-5)
        assert l3.item() == pytest.approx(l2_ref + lam * l1_ref, rel=1e-5)
        if lam:
            assert l1.item() == pytest.approx(l1_ref, rel=1e-5)
        else:
            assert l1 is None


def test_l3_gradient_is_the_mixture_of_gradients():
    ids, lengths, labels = _batch()
    lam = 0.7
    grads = {}
    for name in ("l3", "l2", "l1"):
        m = _model(seed=1)
        l3, l2, l1 = classify_losses(m, ids, lengths, labels, aux_lm_coef=lam)
        {"l3": l3, "l2": l2, "l1": l1}[name].backward()
        grads[name] = {k: (p.grad if p.grad is not None else np.zeros_like(p.data)) for k, p in m.named_parameters()}
    for k in grads["l3"]:
        np.testing.assert_allclose(grads["l3"][k], grads["l2"][k] + lam * grads["l1"][k], rtol=1e-4, atol=1e-6)
    assert np.abs(grads["l1"]["head.weight"]).max() == 0  # the LM loss never touches the class head


def test_lm_targets_hand_worked():
    """Row 0 has 3 real tokens: targets 6, 7 then nothing; row 1 has 2: target 6; id 7 skipped on request."""
    ids = np.array([[5, 6, 7, 0], [5, 6, 0, 0]])
    y = lm_targets(ids, np.array([3, 2]))
    np.testing.assert_array_equal(y, [[6, 7, IGNORE_INDEX, IGNORE_INDEX], [6, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]])
    y = lm_targets(ids, np.array([3, 2]), skip_ids=[7])
    np.testing.assert_array_equal(y[0], [6, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX])


def test_encode_texts():
    tok = CharTokenizer.train("abc")
    ids, lengths = encode_texts(tok, ["ab", "cabc"], bos_id=7, extract_id=8)
    np.testing.assert_array_equal(ids, [[7, 0, 1, 8, 0, 0], [7, 2, 0, 1, 2, 8]])
    np.testing.assert_array_equal(lengths, [4, 6])
    ids, lengths = encode_texts(tok, ["ab", "cabc"], bos_id=7, extract_id=8, max_len=4)
    np.testing.assert_array_equal(ids, [[7, 0, 1, 8], [7, 2, 0, 8]])
    with pytest.raises(ValueError, match="no room"):
        encode_texts(tok, ["a"], bos_id=7, extract_id=8, max_len=2)


def test_classifier_reads_the_last_real_token_only():
    """Changing padding (positions ≥ length) must not change the class logits."""
    m = _model()
    ids, lengths, _ = _batch()
    a = m(ids, lengths)[0].numpy()
    ids2 = ids.copy()
    ids2[0, 4:] = 8
    np.testing.assert_allclose(m(ids2, lengths)[0].numpy(), a, rtol=1e-6)
    with pytest.raises(ValueError, match="lengths"):
        m(ids, np.array([0, 1, 1]))


def test_finetune_learns_a_majority_task_and_from_gpt_copies_the_trunk():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 3, size=(200, 7))
    labels = ((ids == 2).sum(1) > 3).astype(np.int64)
    lengths = np.full(200, 7)
    gpt = GPT(GPTConfig(vocab_size=3, block_size=7, n_layer=1, n_head=2, n_embd=24), seed=3)
    m = SequenceClassifier.from_gpt(gpt, 2)
    np.testing.assert_array_equal(m.gpt.wte.weight.data, gpt.wte.weight.data)
    h = finetune(m, ids[:150], lengths[:150], labels[:150], aux_lm_coef=0.5, steps=150, lr=3e-3)
    assert len(h["l1"]) == len(h["l2"]) == 150
    assert accuracy(m, ids[150:], lengths[150:], labels[150:]) > 0.9


def test_linear_probe():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 8)) * 3
    y = rng.integers(0, 3, 300)
    x = centers[y] + rng.standard_normal((300, 8))
    assert linear_probe(x[:200], y[:200], x[200:], y[200:]) > 0.95
    y_random = rng.integers(0, 3, 300)  # labels unrelated to x: near chance (1/3)
    assert linear_probe(x[:200], y_random[:200], x[200:], y_random[200:]) < 0.55


def test_features_pooling():
    gpt = GPT(GPTConfig(vocab_size=9, block_size=6, n_layer=1, n_head=2, n_embd=16))
    ids, lengths, _ = _batch()
    h = gpt.hidden(ids).numpy()
    np.testing.assert_allclose(features(gpt, ids, lengths, "last")[2], h[2, 1], rtol=1e-6)
    np.testing.assert_allclose(features(gpt, ids, lengths, "mean")[0], h[0, :4].mean(0), rtol=1e-5)
