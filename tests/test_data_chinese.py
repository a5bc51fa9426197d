"""English/Chinese parallel sample.

    PYTHONPATH=. python -m pytest tests/test_data_chinese.py -q
"""
import unicodedata

from minigpt.data.chinese import parallel_sentences, parallel_text


def test_deterministic_and_parallel():
    a = parallel_sentences(200, seed=4)
    assert a == parallel_sentences(200, seed=4) and a != parallel_sentences(200, seed=5)
    for en, zh in a:
        assert en.isascii() and en.endswith(".")
        assert zh.endswith("。") and not any(c.isascii() for c in zh)


def test_chinese_costs_three_bytes_per_character():
    """CJK ideographs (U+4E00..U+9FFF) and the full stop U+3002 are 3 bytes in UTF-8."""
    en, zh = parallel_text(100, seed=0)
    assert len(zh.encode("utf-8")) == 3 * len(zh)
    assert all(unicodedata.name(c).startswith(("CJK UNIFIED", "IDEOGRAPHIC FULL STOP")) for c in zh)
    assert len(en.encode("utf-8")) == len(en)
    assert len(zh) < len(en) / 2                        # Chinese packs more meaning per character
