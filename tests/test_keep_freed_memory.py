"""backend.keep_freed_memory: freed arrays are reused without page faults (glibc only)."""
import os
import subprocess
import sys

import pytest

SCRIPT = """
import resource, numpy as np
import minigpt.backend as b
applied = b.keep_freed_memory() if {keep} else False
def step():  # like a training step: several 4 MB arrays alive at once, then all freed
    xs = [np.ones((1024, 1024), np.float32) for _ in range(8)]
    del xs
for _ in range(3):
    step()
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


def _faults(keep):
    env = {**os.environ, "MINIGPT_KEEP_FREED_MEMORY": "1" if keep else "0"}
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(keep=keep)], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
def test_freed_memory_is_reused_without_page_faults():
    applied, faults = _faults(keep=True)
    if not applied:
        pytest.skip("not glibc")
    _, faults_default = _faults(keep=False)
    assert faults_default > 10 * 1000  # freed memory went back to the OS: its pages fault in again
    assert faults < 100
