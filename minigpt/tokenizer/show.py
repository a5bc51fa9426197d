r"""Seeing tokens: each token of a text as a coloured box (for notebooks), or as a list of pieces.

A token that is only part of a UTF-8 character (an English-only vocabulary splits 你 into three
byte tokens) cannot be shown as text; it is shown as its bytes in hex, e.g. ‹e4›.

    python -m minigpt.tokenizer.show "Hello 你好"      # prints the pieces
"""
import html
import sys

PALETTE = ["#fde2e4", "#e2ece9", "#fff1c1", "#dbe7f6", "#eadcf5", "#d9f2d0", "#fbdcc4", "#d6eff0"]


def token_pieces(tokenizer, ids) -> list:
    """Printable piece for each id: its text, or ‹hex› bytes if it is not valid UTF-8 on its own."""
    out = []
    for i in ids:
        b = tokenizer.decode_bytes([i])
        try:
            out.append(b.decode("utf-8"))
        except UnicodeDecodeError:
            out.append("".join(f"‹{x:02x}›" for x in b))
    return out


def tokens_html(tokenizer, text: str, allowed_special="all", show_ids: bool = False) -> str:
    """HTML with one coloured <span> per token (hover shows the id). Spaces show as ·, newlines as ↵."""
    ids = tokenizer.encode(text, allowed_special=allowed_special)
    spans = []
    for k, (i, piece) in enumerate(zip(ids, token_pieces(tokenizer, ids))):
        shown = html.escape(piece).replace(" ", "·").replace("\n", "↵").replace("\t", "→")
        label = f"<sub style='color:#888'>{i}</sub>" if show_ids else ""
        spans.append(f"<span title='id {i}' style='background:{PALETTE[k % len(PALETTE)]};"
                     f"border-radius:3px;padding:1px 2px;margin:0 1px;font-family:monospace'>"
                     f"{shown}{label}</span>" + "<br>" * piece.count("\n"))
    n_chars = len(text)
    summary = (f"<div style='color:#555;font-size:90%'>{len(ids)} tokens, {n_chars} characters, "
               f"{len(text.encode('utf-8'))} bytes</div>")
    return f"<div style='line-height:2'>{''.join(spans)}</div>{summary}"


def token_widget(tokenizer, value: str = "Hello world! 你好 🙂 12345"):
    """A text box; the tokens of what you type appear below it, coloured (needs ipywidgets)."""
    import ipywidgets as w
    box = w.Textarea(value=value, layout=w.Layout(width="95%", height="60px"),
                     description="text", continuous_update=True)
    out = w.HTML()

    def update(_=None):
        try:
            out.value = tokens_html(tokenizer, box.value, show_ids=True)
        except ValueError as e:
            out.value = f"<span style='color:#b00'>{html.escape(str(e))}</span>"

    box.observe(update, names="value")
    update()
    return w.VBox([box, out])


if __name__ == "__main__":
    from minigpt.tokenizer.bpe import BPETokenizer
    tok = BPETokenizer.train(open(__file__, encoding="utf-8").read(), 400)  # trained on this file's text
    text = " ".join(sys.argv[1:]) or "Hello 你好"
    print(token_pieces(tok, tok.encode(text)))
