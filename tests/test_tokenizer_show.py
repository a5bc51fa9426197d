"""Token display helpers for notebooks.

    PYTHONPATH=. python -m pytest tests/test_tokenizer_show.py -q
"""
from minigpt.tokenizer import BPETokenizer, CharTokenizer
from minigpt.tokenizer.show import token_pieces, tokens_html


def test_show_pieces_and_html():
    tok = CharTokenizer.train("a<b>\n你")
    assert token_pieces(tok, tok.encode("a你")) == ["a", "你"]
    page = tokens_html(tok, "<b>\n", show_ids=True)
    assert "&lt;" in page and "<b>" not in page.replace("<br>", "")   # text is escaped
    assert page.count("<span") == 4 and "4 tokens, 4 characters, 4 bytes" in page


def test_show_partial_utf8_as_hex():
    tok = BPETokenizer.train("abc", 257, special_tokens=[])
    assert token_pieces(tok, tok.encode("你")) == ["‹e4›", "‹bd›", "‹a0›"]     # 你 = e4 bd a0
