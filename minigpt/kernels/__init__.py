"""Hand-written CUDA kernels, their NumPy references, a CPU emulator and a CuPy launcher.

Nothing here imports CuPy at import time: `launch` imports it on first use, and the
CPU shim (`emulate`) needs only g++. See minigpt/kernels/README.md for the file map.

    python -m minigpt.kernels.runner --quick        # every kernel on the CPU shim vs NumPy
    python -m minigpt.kernels.compile_report        # registers/spills for sm_80 and sm_90
"""
