"""minigpt: a GPT-style assistant built end to end on a tiny NumPy autograd engine.

    import minigpt as m
    x = m.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()   # x.grad == [2., 4.]

Layers (DESIGN.md §2): each imports only the layers above it in this list, and
tests/test_architecture.py checks that no two parts import each other.

    backend.py, config.py,           NumPy or CuPy; config dataclasses and their validation (and presets);
      timing.py                        the best-of-a-few-calls timer of the notebooks and benchmarks
    autograd.py                      Tensor (its operators call ops/), Function, backward, gradcheck
    kernels/, ops/                   CUDA kernels with NumPy references; differentiable ops
    nn/, optim.py                    layers, the GPT and its heads, LoRA; AdamW, schedule, clipping
    checkpoint.py, dist.py, zero.py  safetensors checkpoints; data-parallel communication, ZeRO-1
    tokenizer/, data/                BPE, the chat template; corpora, the toy assistant world
    generate.py, scoring.py,         sampling (one sequence or a batch, KV cache); response
      rl_math.py                       log-probs, values, RM scores; the RLHF math
    loop.py                          the one training loop (step, clip, log, checkpoint, resume)
    stages/                          pretrain, sft, reward, ppo, dpo, grpo: a config + batch → loss each
    evaluate.py, inference.py, ...   the report card; best-of-N, reflection, few-shot, codex, scaling
    pipeline.py, experiments/        the four stages end to end; the measured comparisons
    course_runs.py                   the notebooks' checkpoint cache (trains a missing stage)
    cli.py, course.py, grade.py      the `minigpt` command; the exercises and their grading
"""
from minigpt import ops  # noqa: F401  (registers the ops behind Tensor's operators)
from minigpt.autograd import Tensor, gradcheck, no_grad

__version__ = "0.1.0"
__all__ = ["Tensor", "gradcheck", "no_grad", "ops"]
