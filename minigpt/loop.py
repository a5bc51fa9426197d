r"""The one training loop: every stage (pretrain, sft, reward, ppo, dpo, grpo, fit) runs through it.

A stage supplies only what is its own: the loss of a batch (`loss_fn(step, rng) -> loss` or
`(loss, {name: float})`), or for the RL stages a whole iteration (rollout, then updates through
`optimizer_step`). The loop owns everything else, written once:

    for step in range(start, steps):
        lr = schedule(step)                            # linear warmup + cosine, or constant
        for micro in range(grad_accum):                # gradient accumulation (under `mpiexec -n N`:
            model.reseed(hash((seed, step, micro)))    #   rank r takes micro-batches r, r+N, ..., see dist.py)
            rng = default_rng([seed, step, micro])     # batch and dropout depend on (seed, step, micro) only
            (loss_fn(step, rng) / grad_accum).backward()
        optimizer_step(opt, grad_clip)                 # all-reduce grads → clip → step → zero_grad
        log, history, progress bar, evaluate + callback every eval_interval steps
        checkpoint every ckpt_interval steps and at the end

Because a step's randomness comes from (seed, step) and never from the steps before it, a run
stopped at step k and resumed from its checkpoint at step k computes the very same numbers as the
run that never stopped (on the CPU, bit for bit). Around that, the loop keeps runs safe:

- a run directory has one writer (an `fcntl` lock), and a new run never overwrites an old one
  unless asked (`resume=True` continues it, `force=True` starts over);
- resume refuses a checkpoint made with another tokenizer, data or training config, naming the
  difference;
- SIGINT/SIGTERM finish the current step, save, print the command that resumes, exit 130/143;
- a non-finite loss, gradient or weight stops the run naming the step and the likely cause; the
  last good checkpoint stays, NaN weights are never saved.

    python -m minigpt.loop      # fits a tiny GPT to one repeated sequence with `fit`
"""
import dataclasses
import hashlib
import json
import math
import os
import shlex
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from minigpt import dist
from minigpt.backend import to_numpy
from minigpt.checkpoint import (_leftovers, atomic_write_bytes, checkpoint_dir, json_bytes, load_json, load_optim,
                                load_tensors, optim_bytes, recover, strict_json, tensors_bytes, verify_checkpoint,
                                write_checkpoint)
from minigpt.config import upgrade
from minigpt.optim import AdamW, CosineOptimConfig, clip_grad_norm, cosine_lr
from minigpt.tokenizer import load_tokenizer
from minigpt.zero import ZeroAdamW

# config fields that may differ on --resume: they change where and how often, never what is computed
RESUME_MAY_CHANGE = {"resume", "force", "ckpt_interval", "out_dir"}


class NonFiniteError(RuntimeError):
    """Training produced a NaN or inf; the message names the step and the likely cause."""


class Interrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM stopped the run after a checkpoint; `exit_code` is 130 (SIGINT) or 143 (SIGTERM)."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


# -----------------------------------------------------------------------------
# the pieces a step is made of (small and named, so data parallelism can hook in)

def adamw(params, cfg, lr=None):
    """AdamW with the settings of `cfg`, an OptimConfig (a stage config's `optim`): lr, betas, weight decay.

    Under data parallelism with MINIGPT_ZERO=1, ZeRO-1's AdamW (minigpt/zero.py): the same updates,
    its state sharded across the ranks."""
    kwargs = dict(lr=cfg.lr if lr is None else lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    if os.environ.get("MINIGPT_ZERO") == "1":
        opt = ZeroAdamW(params, **kwargs)
        mem = opt.memory_bytes()
        if opt.comm.is_main:
            print(f"ZeRO-1 on {opt.comm.size} rank(s): AdamW state {mem['adam_moments'] / 2**20:.2f} MiB per rank "
                  f"(unsharded {mem['adam_moments_unsharded'] / 2**20:.2f} MiB)", file=sys.stderr)
        return opt
    return AdamW(params, **kwargs)


def step_rng(seed, step, micro=0):
    """The generator for one micro-batch: depends on (seed, step, micro) only.
    (NumPy pads seeds with zeros, so micro 0 gives the same numbers as default_rng([seed, step]).)"""
    return np.random.default_rng([seed, step, micro])


def reseed(model, seed, step, micro=0):
    """New dropout masks for this micro-batch, derived from (seed, step, micro) only (micro 0: (seed, step)),
    so that the rank computing a micro-batch draws the same masks as one process would."""
    target = model if hasattr(model, "reseed") else getattr(model, "gpt", None)
    if target is not None:
        target.reseed(hash((seed, step) if micro == 0 else (seed, step, micro)) % (2**32))


def average_gradients(params, op="mean"):
    """Data parallelism (`mpiexec -n N`) combines the ranks' gradients here, in a few flat buckets
    (dist.allreduce_grads): "sum" when the ranks split the micro-batches, "mean" when every rank
    computed the same thing. One process has nothing to do."""
    dist.allreduce_grads(params, op=op)


def is_writer():
    """Only this process writes checkpoints and logs (rank 0 under data parallelism)."""
    return dist.get_comm().is_main


def optimizer_step(opt, grad_clip, loss=None, reduce="mean"):
    """The optimizer step, written once: average gradients → clip → check finite → step → zero_grad.

    Returns the global gradient norm before clipping. Raises NonFiniteError (and leaves the weights
    untouched) if the loss or the gradient is NaN/inf.
    """
    average_gradients(opt.params, reduce)
    gnorm = clip_grad_norm(opt.params, grad_clip if grad_clip > 0 else math.inf)
    if loss is not None and not math.isfinite(loss):
        opt.zero_grad()
        raise NonFiniteError(f"the loss is {loss}")
    if not math.isfinite(gnorm):
        opt.zero_grad()
        raise NonFiniteError(f"the gradient norm is {gnorm}")
    opt.step()
    opt.zero_grad()
    return gnorm


def fingerprint(*parts):
    """A short sha256 of the training data (arrays by their bytes, anything else by its repr):
    resume compares it, so a checkpoint never continues on other data."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray) or hasattr(p, "dtype"):
            a = np.ascontiguousarray(to_numpy(p))
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
        else:
            h.update(repr(p).encode())
    return h.hexdigest()[:16]


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _differences(saved, now, ignore=()):
    """'name: saved → now' for every field that differs (nested dicts flattened)."""
    a, b = _flat(strict_json(saved)), _flat(strict_json(now))
    return [f"{k}: {a.get(k)!r} → {b.get(k)!r}" for k in sorted(set(a) | set(b))
            if k.split(".")[-1] not in ignore and a.get(k) != b.get(k)]


def resume_command():
    """The command line that continues this run: the current one with --resume (and without --force)."""
    if os.path.basename(sys.argv[0]) in ("minigpt", "__main__.py", "cli.py") and len(sys.argv) > 1:
        args = [a for a in sys.argv[1:] if a not in ("--resume", "--force", "--no-resume", "--no-force")]
        return "minigpt " + shlex.join(args + ["--resume"])
    return "the same call with resume=True"


# -----------------------------------------------------------------------------
# the run directory: one writer, no silent overwrite

class RunLock:
    """An exclusive `fcntl` lock on `<out_dir>/.lock`, held while a run writes there."""

    def __init__(self, out_dir):
        self.path = os.path.join(out_dir, ".lock")
        self.fd = None

    def __enter__(self):
        if not is_writer():  # data parallelism: rank 0 holds the lock for all ranks
            return self
        try:
            import fcntl
        except ImportError:  # not on POSIX: no lock
            return self
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(self.fd, 64, 0).decode(errors="replace").strip()
            os.close(self.fd)
            self.fd = None
            raise RuntimeError(f"{os.path.dirname(self.path)} is being written by another run (pid {owner or '?'}); "
                               f"two writers would mix their checkpoints: wait for it or use another --out-dir") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            import fcntl
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def has_run(out_dir):
    """True if out_dir already holds a checkpoint or a metrics log."""
    ckpt = os.path.join(out_dir, "ckpt")
    return (os.path.exists(os.path.join(out_dir, "metrics.jsonl")) or os.path.isdir(ckpt)
            or bool(_leftovers(ckpt, "old")))


def claim_run_dir(out_dir, resume, force, same_run=lambda: False):
    """Refuse to start a new run over an existing one unless resume or force; force clears the old run.

    A finished run whose checkpoint has exactly this stage, config, data and tokenizer (`same_run()`) may
    be started again without --force: it recomputes the same numbers, so nothing is lost. An unfinished
    one is refused: --resume continues it.
    """
    if not has_run(out_dir) or resume:
        return
    if not force and not same_run():
        raise FileExistsError(f"{out_dir} already holds a run (a checkpoint or metrics.jsonl): pass --resume to "
                              f"continue it or --force to start over")
    ckpt = os.path.join(out_dir, "ckpt")
    for path in [ckpt] + _leftovers(ckpt, "old") + _leftovers(ckpt, "tmp"):
        shutil.rmtree(path, ignore_errors=True)
    if os.path.exists(os.path.join(out_dir, "metrics.jsonl")):
        os.unlink(os.path.join(out_dir, "metrics.jsonl"))


# -----------------------------------------------------------------------------
# metrics log

class MetricsLog:
    """Append-only JSONL: one strict-JSON object per line (NaN/inf as null), flushed as written."""

    def __init__(self, path, keep_before_step=None):
        """keep_before_step=k (resume): keep the rows of steps < k, drop the rest; None: start empty."""
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        rows = [] if keep_before_step is None or not os.path.exists(path) else [
            r for r in read_metrics(path) if r.get("step", -1) < keep_before_step]
        if is_writer():
            atomic_write_bytes(path, "".join(_line(r) for r in rows).encode())
        self.rows = rows

    def write(self, **row):
        row.setdefault("time", round(time.time(), 3))
        if is_writer():
            with open(self.path, "a") as f:
                f.write(_line(row))


def _line(row):
    return json.dumps(strict_json(row), allow_nan=False) + "\n"


def read_metrics(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# -----------------------------------------------------------------------------
# the loop

class Loop:
    r"""One run of a stage. Use as a context manager (it holds the run directory's lock):

        with Loop(cfg, "pretrain", tok, steps=cfg.max_iters, data=(train_ids, val_ids)) as loop:
            opt = adamw(model.parameters(), cfg.optim)
            history = loop.run({"model": model}, {"model": opt}, loss_fn=..., evaluate=...)

    cfg provides: out_dir (None: no files, for in-memory fits), seed, optim (an OptimConfig: a constant lr,
    or a CosineOptimConfig: warmup + cosine; grad_clip), optionally grad_accum, eval_interval,
    ckpt_interval (0: only at the end), resume, force.
    `loop.start` is the step a resumed run continues from; `loop.complete` says the checkpoint
    already holds the finished run (then `run` only loads it).
    """

    def __init__(self, cfg, stage, tok=None, steps=1, data=None, progress=True, callback=None, desc=None):
        if steps < 1:
            raise ValueError(f"{stage}: the run must have at least 1 step, got {steps}")
        self.cfg, self.stage, self.tok, self.steps = cfg, stage, tok, int(steps)
        self.out_dir = getattr(cfg, "out_dir", None)
        self.ckpt_dir = os.path.join(self.out_dir, "ckpt") if self.out_dir else None
        self.data_id = None if data is None else fingerprint(*data)
        self.progress, self.callback, self.desc = progress, callback, desc or stage
        self.start, self.complete, self.saved_config, self.final_config = 0, False, None, None
        self.last_saved = None  # step of the newest checkpoint on disk
        self._lock = None
        self._signal = None

    # --- opening: lock, claim, find the resume point
    def __enter__(self):
        if self.out_dir is None:
            return self
        comm = dist.get_comm()
        try:
            if comm.is_main:  # data parallelism: rank 0 alone locks, claims and repairs the run directory
                self._lock = RunLock(self.out_dir).__enter__()
                claim_run_dir(self.out_dir, getattr(self.cfg, "resume", False), getattr(self.cfg, "force", False),
                              self._same_run)
            resuming = comm.is_main and getattr(self.cfg, "resume", False) and has_run(self.out_dir) \
                and self._has_checkpoint()
            if comm.size > 1:  # rank 0 decides; the others read the run directory only after that
                resuming = comm.sum_floats(float(resuming))[0] > 0
            if resuming:
                if comm.is_main:
                    recover(self.ckpt_dir)
                comm.barrier()
                conf = load_json(os.path.join(verify_checkpoint(self.ckpt_dir), "config.json"))
                self._check_resume(conf)
                self.saved_config = conf
                self.start = self.last_saved = int(conf["step"])
                self.complete = bool(conf.get("complete")) or self.start >= self.steps
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self._lock is not None:
            self._lock.__exit__(*exc)
            self._lock = None

    def _has_checkpoint(self):
        try:
            return os.path.exists(os.path.join(checkpoint_dir(self.ckpt_dir), "config.json"))
        except FileNotFoundError:
            return False

    def _same_run(self):
        """True if out_dir holds a finished run of this very stage, config, data and tokenizer."""
        if not self._has_checkpoint():
            return False
        try:
            conf = load_json(os.path.join(verify_checkpoint(self.ckpt_dir), "config.json"))
            self._check_resume(conf)
        except (ValueError, OSError):
            return False
        return bool(conf.get("complete"))

    def _check_resume(self, conf):
        """Refuse to continue a checkpoint made with another stage, tokenizer, data or config."""
        where = f"--resume refused: the checkpoint in {self.ckpt_dir}"
        if conf.get("stage") != self.stage:
            raise ValueError(f"{where} is a {conf.get('stage')!r} checkpoint, not {self.stage!r}")
        if self.tok is not None:
            saved = load_tokenizer(os.path.join(checkpoint_dir(self.ckpt_dir), conf.get("tokenizer", "tokenizer.json")))
            if (type(saved) is not type(self.tok) or saved._to_json() != self.tok._to_json()
                    or saved.special_tokens != self.tok.special_tokens):
                raise ValueError(f"{where} was trained with another tokenizer ({saved!r}, now {self.tok!r})")
        if conf.get("data") != self.data_id:
            raise ValueError(f"{where} was trained on other data (fingerprint {conf.get('data')}, now {self.data_id}): "
                             f"check --data, --n-chars, --tokenizer and the data seeds")
        saved = upgrade(type(self.cfg), conf.get("train_config", {}))  # (saved by an older minigpt: fields moved)
        diff = _differences(saved, dataclasses.asdict(self.cfg), RESUME_MAY_CHANGE)
        if diff:
            raise ValueError(f"{where} was trained with another config: {'; '.join(diff)}")

    # --- checkpoints
    def save(self, step, complete=False, extra=None):
        """Write every model, optimizer, the tokenizer and the loop state as one checkpoint unit."""
        if self.ckpt_dir is None:
            return
        optim_states = {name: opt.state_dict() for name, opt in self.optimizers.items()}  # ZeRO-1: every rank
        if not is_writer():
            self.last_saved = step
            return
        for name, m in self.models.items():
            for pname, p in m.named_parameters():
                if not np.all(np.isfinite(to_numpy(p.data))):
                    raise NonFiniteError(f"the weights ({name}: {pname}) became non-finite")
        main = self.models["model"]
        files = {"model.safetensors": tensors_bytes(main.state_dict())}
        if self.tok is not None:
            files["tokenizer.json"] = self.tok.save
        for name, m in self.models.items():
            if name != "model":
                files[f"{name}.safetensors"] = tensors_bytes(m.state_dict())
        for name, opt in self.optimizers.items():
            files["optim.safetensors" if name == "model" else f"{name}.optim.safetensors"] = optim_bytes(optim_states[name])
        config = {"stage": self.stage, "model": main.config.to_dict(), "tokenizer": "tokenizer.json", "step": step,
                  "complete": complete, "train_config": dataclasses.asdict(self.cfg), "data": self.data_id,
                  "loop_state": self.state[0]() if self.state else None, "ranks": dist.get_comm().size,
                  **self.meta, **(extra or {})}
        files["config.json"] = json_bytes(config)
        write_checkpoint(self.ckpt_dir, files)
        self.last_saved = step
        if complete:
            self.final_config = config

    def _restore(self):
        directory = verify_checkpoint(self.ckpt_dir)
        conf = load_json(os.path.join(directory, "config.json"))
        diff = _differences(conf.get("model", {}), self.models["model"].config.to_dict())
        if diff:
            raise ValueError(f"--resume refused: the checkpoint in {self.ckpt_dir} holds another model: {'; '.join(diff)}")
        for name, m in self.models.items():
            m.load_state_dict(load_tensors(os.path.join(directory, f"{name}.safetensors")))
        for name, opt in self.optimizers.items():
            if not self.complete:  # a finished run trains no more
                opt.load_state_dict(load_optim(os.path.join(
                    directory, "optim.safetensors" if name == "model" else f"{name}.optim.safetensors")))
        if self.state and conf.get("loop_state") is not None:
            self.state[1](conf["loop_state"])

    # --- interrupts
    def _on_signal(self, signum, frame):
        if self._signal is not None:  # a second Ctrl-C: stop now, without a checkpoint
            raise KeyboardInterrupt
        self._signal = signum
        print(f"\n{self.stage}: {signal.Signals(signum).name} received: finishing this step, then saving a "
              f"checkpoint (press Ctrl-C again to stop at once, without one)", file=sys.stderr, flush=True)

    def _agree_on_signal(self):
        """Data parallelism: a signal seen by any rank stops every rank after the same step."""
        comm = dist.get_comm()
        if comm.size > 1:
            seen = comm.allreduce(np.array([self._signal or 0], dtype=np.int64))
            if seen[0] and self._signal is None:  # another rank was signalled: stop as if told to terminate
                self._signal = signal.SIGTERM

    def _install_signals(self):
        if self.ckpt_dir is None or threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    # --- the loop itself
    def run(self, models, optimizers, loss_fn=None, iteration_fn=None, evaluate=None, eval_keys=("val_loss",),
            finish=None, state=None, meta=None, loss_key="loss", show=None, stop_at=None):
        """Train from self.start to self.steps; returns the history {key: [values]}.

        models / optimizers: {"model": main model, other name: model}; the "model" optimizer follows the
        lr schedule. loss_fn(step, rng) -> loss or (loss, {name: float}) per micro-batch; or
        iteration_fn(step, rng) -> {name: float} for a stage that steps its optimizers itself
        (through optimizer_step). evaluate(step) -> {name: float} every eval_interval steps and at the
        end (keys in eval_keys). finish() -> {extra config} runs after the last step, before the final
        checkpoint. state = (get() -> JSON, set(JSON)) for the stage's own state (e.g. a generator).
        meta: constant fields for every checkpoint's config. stop_at: stop before that step without
        saving, as a crash would (tests).
        """
        cfg = self.cfg
        self.models, self.optimizers, self.state, self.meta = models, optimizers, state, dict(meta or {})
        if self.last_saved is not None:
            self._restore()
        for m in models.values():  # data parallelism: every rank starts from rank 0's weights
            dist.broadcast_params(m.parameters())
        metrics_path = os.path.join(self.out_dir, "metrics.jsonl") if self.out_dir else None
        rows, log = [], None
        if metrics_path and not self.complete:
            log = MetricsLog(metrics_path, keep_before_step=self.start if self.last_saved is not None else None)
            rows = log.rows
        elif metrics_path and os.path.exists(metrics_path):  # finished before: only read its history
            rows = [r for r in read_metrics(metrics_path) if r.get("step", self.steps) < self.steps]
        history = {"step": []}
        for r in rows:
            self._record(history, r, eval_keys)
        if self.complete:
            return history
        seed, accum = cfg.seed, getattr(cfg, "grad_accum", 1)
        eval_every, ckpt_every = getattr(cfg, "eval_interval", None), getattr(cfg, "ckpt_interval", 0) or 0
        optim = cfg.optim
        cosine = isinstance(optim, CosineOptimConfig)
        main, opt = models["model"], optimizers.get("model")
        show = show or ((loss_key,) + tuple(eval_keys))
        old_handlers = self._install_signals()
        bar = tqdm(range(self.start, self.steps), desc=self.desc, disable=not (self.progress and is_writer()),
                   initial=self.start, total=self.steps)
        try:
            for step in bar:
                if stop_at is not None and step >= stop_at:
                    break
                lr = cosine_lr(step, optim.lr, optim.warmup_iters, self.steps, optim.min_lr) if cosine else optim.lr
                if opt is not None:
                    opt.lr = lr
                reseed(main, seed, step)
                try:
                    if loss_fn is not None:
                        row = self._accumulate(step, loss_fn, opt, accum, seed, loss_key)
                        row["lr"] = lr
                    else:
                        row = dict(iteration_fn(step, step_rng(seed, step)))
                    last = step == self.steps - 1
                    report = evaluate is None or last or (eval_every and (step + 1) % eval_every == 0)
                    if evaluate is not None and report:
                        row.update(evaluate(step))
                    row = {"step": step, **row}
                    if log is not None:
                        log.write(**row)
                    self._record(history, row, eval_keys)
                    bar.set_postfix({k: f"{row[k]:.3f}" for k in show if isinstance(row.get(k), float)}, refresh=False)
                    if report and self.callback:
                        self.callback(step, row)
                    self._agree_on_signal()
                    if last:
                        self.save(step + 1, complete=True, extra=finish() if finish else None)
                    elif (ckpt_every and (step + 1) % ckpt_every == 0) or self._signal is not None:
                        self.save(step + 1)
                except NonFiniteError as e:
                    raise NonFiniteError(self._nonfinite_message(step, e)) from None
                if self._signal is not None and not last:
                    code = 128 + self._signal
                    msg = (f"{self.stage}: interrupted after step {step}; checkpoint of step {step + 1} in "
                           f"{self.ckpt_dir}.\nresume with: {resume_command()}")
                    print(msg, file=sys.stderr, flush=True)
                    raise Interrupted(msg, code)
        finally:
            bar.close()
            for s, h in old_handlers.items():
                signal.signal(s, h)
        return history

    def _accumulate(self, step, loss_fn, opt, accum, seed, loss_key):
        """Micro-batches → one optimizer step; the row of means to log."""
        total, sums = 0.0, {}
        comm = dist.get_comm()
        # data parallelism: ranks take whole micro-batches (rank r: r, r+N, ...) when there are enough of them,
        # else every rank runs every micro-batch on its share of the rows (the stage picks them with dist.my_rows)
        split_rows = comm.size > accum
        for micro in (range(accum) if split_rows else dist.my_micro_batches(accum, comm)):
            if micro:
                reseed(self.models["model"], seed, step, micro)
            with dist.RowSplit(split_rows, comm) as split:
                out = loss_fn(step, step_rng(seed, step, micro))
            if split_rows and split.fraction is None:
                raise ValueError(f"{self.stage} splits its work across ranks by micro-batches only: use "
                                 f"--grad-accum {comm.size} (or a multiple) with {comm.size} ranks")
            w = split.fraction if split_rows else 1.0  # this rank's share of the micro-batch's rows
            loss, extra = out if isinstance(out, tuple) else (out, {})
            value = loss.item() * w
            if not math.isfinite(value) and comm.size == 1:
                opt.zero_grad()
                raise NonFiniteError(f"the loss is {value}")
            (loss * (w / accum)).backward()
            total += value
            for k, v in extra.items():
                sums[k] = sums.get(k, 0.0) + (v if v is None or isinstance(v, int) else float(v) * w)
        if comm.size > 1:  # the step's numbers over all micro-batches and rows, on every rank
            keys = sorted(k for k, v in sums.items() if isinstance(v, float))  # ints (an epoch) are the same everywhere
            total, *values = comm.sum_floats(total, *(sums[k] for k in keys))
            sums.update(zip(keys, values))
            if not math.isfinite(total):
                opt.zero_grad()
                raise NonFiniteError(f"the loss is {total}")
        grad_norm = optimizer_step(opt, self.cfg.optim.grad_clip, reduce="sum")
        row = {loss_key: total / accum}
        row.update({k: (v / accum if isinstance(v, float) else v) for k, v in sums.items()})
        row["grad_norm"] = grad_norm
        return row

    def _record(self, history, row, eval_keys):
        history["step"].append(row["step"])
        for k, v in row.items():
            if k in ("step", "time"):
                continue
            if k in eval_keys:
                if k == eval_keys[0]:
                    history.setdefault("eval_step", []).append(row["step"])
                history.setdefault(k, []).append(v)
            else:
                history.setdefault(k, []).append(v)

    def _nonfinite_message(self, step, err):
        cfg = self.cfg
        kept = (f"the last good checkpoint (step {self.last_saved}) is kept in {self.ckpt_dir}"
                if self.last_saved is not None else "no checkpoint was written")
        return (f"{self.stage} stopped at step {step}: {err}. Likely cause: a learning rate too high or not a "
                f"number (lr={cfg.optim.lr}), or a division by ~0 in the loss (an ε or temperature of 0); lower the lr or "
                f"raise the warmup. Nothing was saved after the failure: {kept}.")


# -----------------------------------------------------------------------------
# fit: "minimise this loss for N steps", in memory (the model-family experiments)

@dataclass
class FitConfig:
    optim: CosineOptimConfig = field(default_factory=CosineOptimConfig)  # AdamW, warmup + cosine, clipping
    seed: int = 0  # seeds the batches (loss_fn's rng) and dropout
    out_dir: str = None  # None: nothing written


def fit(model, loss_fn, steps, lr=1e-3, min_lr=None, warmup=10, weight_decay=0.0, grad_clip=1.0, seed=0,
        params=None, progress=False, desc="train"):
    """Minimise `loss_fn(step, rng)` (-> loss or (loss, {name: float})) for `steps` AdamW steps in memory;
    returns {"loss": [...], other logged names: [...]}.

        history = fit(model, lambda step, rng: (loss_tensor, {"acc": 0.9}), steps=200, lr=1e-3)
    """
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    optim = CosineOptimConfig(lr=lr, min_lr=lr / 10 if min_lr is None else min_lr, warmup_iters=warmup,
                              weight_decay=weight_decay, grad_clip=grad_clip)
    cfg = FitConfig(optim=optim, seed=seed)
    opt = adamw(list(model.parameters() if params is None else params), optim)
    was = model.training
    model.train()
    try:
        with Loop(cfg, desc, steps=steps, progress=progress) as loop:
            h = loop.run({"model": model}, {"model": opt}, loss_fn=loss_fn)
    finally:
        model.train(was)
    return {k: v for k, v in h.items() if k not in ("lr", "grad_norm")}


if __name__ == "__main__":
    from minigpt.nn.gpt import GPT, GPTConfig
    m = GPT(GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=2, n_embd=16))
    seq = np.array([[1, 2, 3, 4, 5, 6, 7, 0, 1]])
    h = fit(m, lambda step, rng: m(seq[:, :-1], seq[:, 1:])[1], steps=100, lr=1e-2)
    print(f"loss {h['loss'][0]:.3f} -> {h['loss'][-1]:.3f}")
