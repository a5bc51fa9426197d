r"""Data parallelism, the communication layer: ranks, collectives, gradient all-reduce in buckets.

N copies of one program (ranks) each run the model on a slice of the global batch; before the
optimizer step they sum their gradients with an *all-reduce*, so every rank applies the same
update and the weights stay identical. Nothing is home-made on the wire:

    NumPy arrays (CPU)  → MPI through mpi4py (buffer interface: Allreduce, Bcast, Allgather)
    CuPy arrays (GPU)   → NCCL through cupy.cuda.nccl, one GPU per rank (ids broadcast over MPI)

Without a launcher the world has one rank and every collective is the identity, so the same code
runs as a plain process; mpi4py is imported only when the process was started by `mpiexec`.

The data split: a step's global batch is `grad_accum` micro-batches of `batch_size` sequences,
micro-batch m drawn from the generator seeded by (seed, step, m). With grad_accum ≥ N, rank r takes
micro-batches r, r+N, r+2N, ... (`my_micro_batches`); with fewer, every rank runs every micro-batch on
a contiguous share of its rows (`my_rows`) and weights its loss by that share. Either way the summed
gradient is the one-process gradient whatever N is (up to float summation order): N is a speed knob.

    pip install -e '.[dist]'                  # mpi4py + an MPICH wheel that ships `mpiexec`
    mpiexec -n 2 python -m minigpt.dist       # each rank prints what an all-reduce gave it

`minigpt pipeline` starts itself this way on a machine with 2+ cores when the extra is installed
(`auto_ranks`, `run_as_ranks`): two ranks with one BLAS thread each keep both cores busy through
the whole step, where one process leaves the second core idle outside the big GEMMs.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from minigpt.backend import get_xp, xp

# Variables that MPI launchers set in each rank's environment: MPICH/Intel MPI (Hydra), Open MPI, PMIx.
LAUNCHER_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
DEFAULT_BUCKET_BYTES = 1 << 20  # 1 MiB per flat gradient buffer: a few buckets for the course's models


def launched() -> bool:
    """True when this process was started by an MPI launcher (mpiexec / mpirun / srun with PMI)."""
    return any(v in os.environ for v in LAUNCHER_RANK_VARS)


# -----------------------------------------------------------------------------
# communicators

class Comm:
    """A world of one rank: every collective returns its input (what a plain `python` run sees)."""
    rank, size, local_rank = 0, 1, 0

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes metrics, checkpoints and progress bars."""
        return self.rank == 0

    def allreduce(self, a, op="sum"):
        """In place: a ← Σ_ranks a (op="sum") or the mean (op="mean"). Returns a."""
        return a

    def broadcast(self, a, root=0):
        """In place: every rank's a ← rank root's a. Returns a."""
        return a

    def allgather(self, a):
        """(size, *a.shape) array whose row r is rank r's a."""
        return a[None].copy()

    def barrier(self):
        pass

    def sum_floats(self, *values):
        """Σ over ranks of a few Python numbers (float64 on the wire, for logging), as a tuple of floats."""
        buf = self.allreduce(np.asarray(values, dtype=np.float64))
        return tuple(float(v) for v in buf)

    def max_floats(self, *values):
        """max over ranks of a few Python numbers (for logging), as a tuple of floats."""
        rows = self.allgather(np.asarray(values, dtype=np.float64))  # (size, len(values))
        return tuple(float(v) for v in rows.max(axis=0))


class MPIComm(Comm):
    """COMM_WORLD of an `mpiexec` launch: NumPy arrays over MPI, CuPy arrays over NCCL."""

    def __init__(self):
        try:
            from mpi4py import MPI  # noqa: lazily, only under a launcher
        except ImportError as e:
            raise RuntimeError("started by an MPI launcher but mpi4py is not installed: "
                               "pip install -e '.[dist]'") from e
        self.MPI, self.world = MPI, MPI.COMM_WORLD
        self.rank, self.size = self.world.Get_rank(), self.world.Get_size()
        self.local_rank = self.world.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()  # rank within this machine
        self._nccl = None
        _abort_all_on_uncaught_exception(self.world)
        if xp.__name__ == "cupy":  # one GPU per rank: rank i of a machine uses its GPU i (mod the count)
            xp.cuda.Device(self.local_rank % xp.cuda.runtime.getDeviceCount()).use()

    def allreduce(self, a, op="sum"):
        if op not in ("sum", "mean"):
            raise ValueError(f"op must be 'sum' or 'mean', got {op!r}")
        if get_xp(a) is np:
            _check_contiguous(a)
            self.world.Allreduce(self.MPI.IN_PLACE, a, op=self.MPI.SUM)
        else:
            self.nccl().allreduce(a)
        if op == "mean":
            a /= self.size
        return a

    def broadcast(self, a, root=0):
        if get_xp(a) is np:
            _check_contiguous(a)
            self.world.Bcast(a, root=root)
        else:
            self.nccl().broadcast(a, root)
        return a

    def allgather(self, a):
        out = get_xp(a).empty((self.size,) + a.shape, dtype=a.dtype)
        if get_xp(a) is np:
            self.world.Allgather(np.ascontiguousarray(a), out)
        else:
            self.nccl().allgather(get_xp(a).ascontiguousarray(a), out)
        return out

    def barrier(self):
        self.world.Barrier()

    def abort(self, code=1):
        """End every rank now (an error on one rank would leave the others waiting in a collective)."""
        _abort(self.world, code)

    def nccl(self):
        """The NCCL communicator (made on first use: rank 0's unique id travels to the others by MPI)."""
        if self._nccl is None:
            self._nccl = NCCLComm(self)
        return self._nccl


class NCCLComm:
    """NCCL collectives on CuPy arrays (cupy.cuda.nccl), on the current stream of each rank's GPU."""

    def __init__(self, mpi_comm):
        try:
            from cupy.cuda import nccl  # noqa: lazily, GPU path only
        except ImportError as e:
            raise RuntimeError("CuPy arrays need NCCL for the all-reduce, but cupy.cuda.nccl is not available: "
                               "install CuPy with NCCL (pip install -e '.[gpu]' nvidia-nccl-cu12)") from e
        self.nccl, self.cupy = nccl, xp
        uid = np.zeros(128, dtype=np.int64)  # ncclUniqueId: 128 chars
        if mpi_comm.rank == 0:
            uid[:] = nccl.get_unique_id()
        mpi_comm.world.Bcast(uid, root=0)
        self.comm = nccl.NcclCommunicator(mpi_comm.size, tuple(int(b) for b in uid), mpi_comm.rank)
        self.types = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64,
                      np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.int32): nccl.NCCL_INT32,
                      np.dtype(np.int64): nccl.NCCL_INT64}

    def _type(self, a):
        _check_contiguous(a)
        if a.dtype not in self.types:
            raise TypeError(f"NCCL collectives here take {sorted(map(str, self.types))}, got {a.dtype}")
        return self.types[a.dtype]

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def allreduce(self, a):
        self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, self._type(a), self.nccl.NCCL_SUM, self._stream())

    def broadcast(self, a, root):
        self.comm.broadcast(a.data.ptr, a.data.ptr, a.size, self._type(a), root, self._stream())

    def allgather(self, a, out):
        self.comm.allGather(a.data.ptr, out.data.ptr, a.size, self._type(a), self._stream())


def _abort_all_on_uncaught_exception(world):
    """An exception that ends one rank ends them all (after its traceback is printed), instead of a hang."""
    previous = sys.excepthook

    def hook(*exc_info):
        previous(*exc_info)
        _abort(world, 1)
    sys.excepthook = hook


def _abort(world, code):
    """MPI_Abort kills every rank at once, and with them what they printed but the launcher has not yet
    passed on (seen: rank 0's error message lost about once in 20 runs); flush, give it a moment, then abort."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(0.5)
    world.Abort(code)


def abort_on_failure(exit_code):
    """Call with a command's exit code: a non-zero one ends every rank (under a launcher), else returns it."""
    if exit_code and _WORLD is not None and _WORLD.size > 1:
        _WORLD.abort(int(exit_code))
    return exit_code


def _check_contiguous(a):
    if not a.flags.c_contiguous:
        raise ValueError("collectives need a C-contiguous array (a flat buffer on the wire)")


_WORLD = None


def get_comm() -> Comm:
    """This process's communicator: MPI's world under a launcher, else a world of one (cached)."""
    global _WORLD
    if _WORLD is None:
        _WORLD = MPIComm() if launched() else Comm()
    return _WORLD


# -----------------------------------------------------------------------------
# starting the ranks: `minigpt pipeline` runs as two ranks by itself on a 2+ core machine

def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def auto_ranks() -> int:
    """How many ranks `minigpt pipeline` starts as: MINIGPT_RANKS=N if set, else 2 when this machine has 2+ cores
    and the dist extra is installed (mpi4py and an `mpiexec`), else 1. Under a launcher it is 1: this process is
    already one of the ranks and starts none.

    Why: one process leaves the second core mostly idle. OpenBLAS threads the big GEMMs over both cores, but
    attention's small GEMMs, the fused kernels and Python run on one. Two ranks, each with one BLAS thread,
    run everything on both (measured on a 2-core AVX2 EPYC: the default pipeline 1.3x faster, same checks).
    """
    if launched():
        return 1
    want = os.environ.get("MINIGPT_RANKS", "auto").strip().lower()
    if want != "auto":
        if not want.isdigit() or int(want) < 1:
            raise ValueError(f"MINIGPT_RANKS={want!r}: expected a number of ranks (1, 2, ...) or 'auto'")
        return int(want)
    return 2 if usable_cores() >= 2 and _mpiexec() else 1


def _mpiexec():
    """The `mpiexec` that starts ranks, or None without the dist extra (mpi4py and an MPI launcher)."""
    return shutil.which("mpiexec") if importlib.util.find_spec("mpi4py") is not None else None


def run_as_ranks(n, args) -> int:
    """Run `mpiexec -n n python args` and return its exit status; each rank gets cores // n BLAS threads.

    Ctrl-C reaches the ranks through mpiexec: each finishes its step and saves a checkpoint (exit 130)."""
    mpiexec = _mpiexec()
    if mpiexec is None:
        raise ValueError(f"MINIGPT_RANKS={n} needs mpi4py and an `mpiexec`: pip install -e '.[dist]' "
                         f"(or MINIGPT_RANKS=1 for one process)")
    threads = str(max(1, usable_cores() // n))
    env = {"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads,
           # Open MPI's mpiexec refuses to start as root (a container, Colab) unless told; MPICH ignores these
           "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           **os.environ, "MINIGPT_RANKS": str(n)}
    print(f"minigpt: {n} data-parallel ranks (mpiexec -n {n}), {env['OPENBLAS_NUM_THREADS']} BLAS thread(s) each; "
          f"MINIGPT_RANKS=1 runs one process", file=sys.stderr, flush=True)
    proc = subprocess.Popen([mpiexec, "-n", str(n), sys.executable, *args], env=env)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:  # the ranks got it too: wait for their checkpoint
            continue


# -----------------------------------------------------------------------------
# data split

def my_micro_batches(grad_accum: int, comm=None) -> range:
    """The micro-batch indices of a step that this rank computes: rank, rank + N, rank + 2N, ...

    Example: grad_accum=4 on 2 ranks -> rank 0: [0, 2], rank 1: [1, 3]; on 1 rank: [0, 1, 2, 3].
    """
    comm = comm or get_comm()
    if grad_accum < comm.size:
        raise ValueError(f"grad_accum={grad_accum} is smaller than the number of ranks ({comm.size}): the global "
                         f"batch (batch_size × grad_accum) is split into micro-batches across ranks; "
                         f"use --grad-accum {comm.size} (or a multiple) and a smaller --batch-size")
    return range(comm.rank, grad_accum, comm.size)


def my_share(n, comm=None):
    """(lo, hi): this rank's contiguous share [lo, hi) of n items (rows of a batch, prompts of a rollout).

    Example: n=5 on 2 ranks -> rank 0: (0, 2), rank 1: (2, 5); on 1 rank: (0, 5).
    """
    comm = comm or get_comm()
    return comm.rank * n // comm.size, (comm.rank + 1) * n // comm.size


class RowSplit:
    """Splitting a micro-batch's *rows* across the ranks, for stages with fewer micro-batches than ranks.

    The loop opens one per micro-batch (`with RowSplit(active) as split:`); inside, the stage passes its
    batch's row indices through `my_rows`, and each rank keeps a contiguous 1/N of them. `split.fraction`
    is then len(mine) / len(rows): the loop weights this rank's batch-mean loss by it, so the ranks'
    weighted losses add up to the mean over the whole batch.
    """
    current = None

    def __init__(self, active, comm=None):
        self.active, self.comm, self.fraction = active, comm or get_comm(), None

    def __enter__(self):
        RowSplit.current = self
        return self

    def __exit__(self, *exc):
        RowSplit.current = None


def my_rows(rows):
    """This rank's rows of a batch (a list or an index array): all of them unless the loop splits rows.

    Example: 5 rows on 2 ranks -> rank 0 keeps rows[0:2], rank 1 rows[2:5]; one process keeps all 5.
    A rank left without rows (1 row, 2 ranks: rank 0) computes them all with weight 0 (no gradient).
    """
    split = RowSplit.current
    if split is None or not split.active:
        return rows
    n = len(rows)
    lo, hi = my_share(n, split.comm)
    split.fraction = (hi - lo) / n
    if lo == hi:  # fewer rows than ranks (an epoch's last batch): run them all, with weight 0
        return rows
    return rows[lo:hi]


# -----------------------------------------------------------------------------
# gradients and weights in flat buckets

def make_buckets(params, bucket_bytes=DEFAULT_BUCKET_BYTES):
    """Group parameter indices, in order, into buckets of about `bucket_bytes` (one all-reduce each).

    Example: sizes [3, 3, 10] (float32, 12/12/40 bytes), bucket_bytes=24 -> [[0, 1], [2]].
    A parameter larger than a bucket gets one of its own.
    """
    buckets, current, nbytes = [], [], 0
    for i, p in enumerate(params):
        size = p.size * p.dtype.itemsize
        if current and nbytes + size > bucket_bytes:
            buckets.append(current)
            current, nbytes = [], 0
        current.append(i)
        nbytes += size
    if current:
        buckets.append(current)
    return buckets


def allreduce_grads(params, buckets=None, comm=None, op="sum"):
    """Sum (or average) every parameter's gradient over the ranks, one flat all-reduce per bucket.

    A rank whose micro-batches did not touch a parameter (grad None) contributes zeros; a parameter
    that no rank touched keeps grad None, as in the one-process run (AdamW then skips it).
    Returns the number of bytes each rank handed to the all-reduce.
    """
    comm = comm or get_comm()
    params = list(params)
    if comm.size == 1:
        return 0
    buckets = make_buckets(params) if buckets is None else buckets
    touched = comm.allreduce(np.array([p.grad is not None for p in params], dtype=np.int32))
    sent = 0
    for bucket in buckets:
        live = [i for i in bucket if touched[i]]
        if not live:
            continue
        ax = get_xp(params[live[0]].data)
        flat = ax.zeros(sum(params[i].size for i in live), dtype=params[live[0]].dtype)  # one buffer on the wire
        offset = 0
        for i in live:
            n = params[i].size
            if params[i].grad is not None:
                flat[offset:offset + n] = params[i].grad.reshape(-1)
            offset += n
        comm.allreduce(flat, op)
        sent += flat.nbytes
        offset = 0
        for i in live:
            n = params[i].size
            params[i].grad = flat[offset:offset + n].reshape(params[i].shape)  # a view of the bucket
            offset += n
    return sent


def broadcast_params(params, root=0, comm=None):
    """Make every rank's weights rank `root`'s (at the start of a run and after loading a checkpoint)."""
    comm = comm or get_comm()
    if comm.size == 1:
        return
    for p in params:
        if not p.data.flags.c_contiguous:
            p.data = get_xp(p.data).ascontiguousarray(p.data)
        comm.broadcast(p.data, root)


# -----------------------------------------------------------------------------
# demo

if __name__ == "__main__":
    comm = get_comm()
    mine = np.full(3, comm.rank + 1, dtype=np.float32)
    total = comm.allreduce(mine.copy())
    print(f"rank {comm.rank}/{comm.size} (local {comm.local_rank}): {mine} all-reduced -> {total}; "
          f"gathered {comm.allgather(mine)[:, 0].tolist()}")
