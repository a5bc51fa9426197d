"""Every .cu file compiles for real GPUs (sm_80 = A100, sm_90 = H100) without a GPU, with no spills.

NVRTC (what CuPy uses at run time) for both archs, nvcc for sm_90, each when installed; the
ptxas figures (registers, spills, shared memory) are printed, `-s` shows them:
    python -m pytest tests/kernels/test_kernels_compile.py -q -s
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from minigpt.kernels import compile_report as cr
from minigpt.kernels import source

FILES = source.kernel_files()
JOBS = [(f, arch) for f in FILES for arch in cr.ARCHS]
IDS = [f"{f.name}-{arch}" for f, arch in JOBS]
# nvcc runs the same ptxas as NVRTC: with NVRTC present one small file checks the nvcc path,
# without it nvcc compiles everything (python -m minigpt.kernels.compile_report --compiler nvcc: all)
NVCC_JOBS = [(f, "sm_90") for f in FILES if cr.nvrtc() is None or f.name == "softmax.cu"]


def _compile_all(fn, jobs):
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return dict(zip(jobs, pool.map(lambda job: fn(*job), jobs)))


@pytest.fixture(scope="module")
def nvrtc_logs():
    if cr.nvrtc() is None:
        pytest.skip("NVRTC not installed (pip install nvidia-cuda-nvrtc)")
    return _compile_all(lambda f, arch: cr.compile_nvrtc(f.read_text(), arch, name=f.name), JOBS)


@pytest.fixture(scope="module")
def nvcc_logs():
    if cr.nvcc() is None:
        pytest.skip("nvcc not on PATH")
    return _compile_all(cr.compile_nvcc, NVCC_JOBS)


def _check(logs, f, arch, compiler):
    ok, log = logs[(f, arch)]
    assert ok, f"{compiler} failed on {f.name} for {arch}:\n{log[-3000:]}"
    figures = cr.parse_ptxas(log)
    expected = set(source.parse_entries(f.read_text()))
    assert set(figures) == expected, f"ptxas reported {sorted(figures)}, the file defines {sorted(expected)}"
    for fn, fig in figures.items():
        print(json.dumps({"compiler": compiler, "arch": arch, "kernel": fn, **fig}))
        assert fig["spill_stores"] == 0 and fig["spill_loads"] == 0, f"{fn} spills on {arch}: {fig}"
        assert 0 < fig["registers"] <= 255


@pytest.mark.parametrize("f, arch", JOBS, ids=IDS)
def test_compiles_with_nvrtc(nvrtc_logs, f, arch):
    _check(nvrtc_logs, f, arch, "nvrtc")


@pytest.mark.parametrize("f, arch", NVCC_JOBS, ids=[f"{f.name}-{a}" for f, a in NVCC_JOBS])
def test_compiles_with_nvcc(nvcc_logs, f, arch):
    _check(nvcc_logs, f, arch, "nvcc")


def test_parse_ptxas_reads_the_figures():
    log = """ptxas info    : Compiling entry function 'k' for 'sm_90'
ptxas info    : Function properties for k
    8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 40 registers, used 1 barriers, 2048 bytes smem, 400 bytes cmem[0]"""
    assert cr.parse_ptxas(log) == {"k": {"stack_bytes": 8, "spill_stores": 4, "spill_loads": 12,
                                         "registers": 40, "static_smem": 2048, "barriers": 1}}


def test_broken_source_fails_to_compile():
    if cr.nvrtc() is None:
        pytest.skip("NVRTC not installed")
    ok, log = cr.compile_nvrtc('extern "C" __global__ void k(float* x) { x[0] = undefined_name; }', "sm_80")
    assert not ok and "undefined_name" in log
