"""Screenshots of course notebooks as JupyterLab renders them (widgets and plots included).

Starts a private `jupyter lab` on a free localhost port, in a temporary copy of notebooks/ (so no outputs or
checkpoints land in the repository), opens each notebook in headless Chromium through Playwright, runs all
cells in quick mode (MINIGPT_QUICK=1), scrolls to the cell of interest and saves a PNG in docs/screenshots/.

    python tools/screenshot_notebooks.py                      # both default shots, about a minute on 2 cores
    python tools/screenshot_notebooks.py attention_maps --chromium /usr/bin/chromium   # one of them

Needs the dev and screenshots extras (`pip install -e ".[dev,screenshots]"`, i.e. Playwright) and a Chromium
(Debian: `apt-get install chromium`). The browser is started from `--chromium`, so `playwright install` is not
needed. A tool, not part of the test suite (CI has no browser).
"""
import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Shot:
    notebook: str  # file in notebooks/
    cell: str  # a piece of source that identifies the cell to show
    expect: str  # CSS selector that must appear in that cell's output before the picture is taken
    align: str = "top"  # "top": the output's top goes `margin` px below the view's top; "bottom": its bottom
    margin: int = 20  # goes `margin` px above the view's bottom


SHOTS = {
    # ipywidgets: the sampling widget of notebook 05 (sliders, a text box, an Output with a sample)
    "sampling_widget": Shot("05_pretraining.ipynb", cell="prompt_box = widgets.Text(", expect=".widget-slider",
                            align="bottom", margin=20),
    # matplotlib: the causal mask and the attention weights of notebook 03 (the cell's code above the plot)
    "attention_maps": Shot("03_attention.ipynb", cell="a1.imshow(mask", expect=".jp-RenderedImage img",
                           align="top", margin=330),
}

# Chromium must not phone home on a closed network (it hangs), nor show first-run pages.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# JupyterLab user settings for a clean, deterministic page: every cell in the DOM, no news/update toasts.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                   "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


# -----------------------------------------------------------------------------
# the server

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(workdir, log):
    """`jupyter lab` serving workdir/notebooks; returns (process, base url, token)."""
    shutil.copytree(os.path.join(REPO, "notebooks"), os.path.join(workdir, "notebooks"))
    for name, value in LAB_SETTINGS.items():
        path = os.path.join(workdir, "lab-settings", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(value, f)
    env = dict(os.environ, MINIGPT_QUICK="1", PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]),
               MINIGPT_RUN_DIR=os.path.join(workdir, "runs"),  # quick checkpoints of notebooks 06-08 go here
               OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"),
               JUPYTERLAB_SETTINGS_DIR=os.path.join(workdir, "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=os.path.join(workdir, "lab-workspaces"),
               JUPYTER_CONFIG_DIR=os.path.join(workdir, "jupyter-config"),
               JUPYTER_RUNTIME_DIR=os.path.join(workdir, "jupyter-runtime"))
    port, token = free_port(), secrets.token_hex(16)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={os.path.join(workdir, 'notebooks')}"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),  # e.g. in a container
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                return proc, url, token
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                stop_lab(proc)
                raise RuntimeError(f"jupyter lab did not start on port {port}")
            time.sleep(1)


def stop_lab(proc):
    proc.terminate()  # the server shuts its kernels down on SIGTERM
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -----------------------------------------------------------------------------
# the browser

def wait_for(page, js, timeout_s, what, arg=None):
    """Poll a JS predicate every second until it is true; RuntimeError naming `what` after timeout_s."""
    deadline = time.time() + timeout_s
    while not page.evaluate(js, arg):
        if time.time() > deadline:
            raise RuntimeError(f"timed out after {timeout_s}s waiting for {what}")
        page.wait_for_timeout(1000)


# JavaScript evaluated in the page
KERNEL_IDLE = """() => !document.querySelector('.jp-Dialog') &&
  document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle' &&
  /Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')"""
ERRORS = """() => [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.textContent).filter(t => t.includes('Traceback')).map(t => t.slice(0, 2000))"""
RUN_FINISHED = """() => {  // every code cell has run, or one failed (Run All then stops); nothing queued, kernel idle
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
  const idle = document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle';
  const failed = (""" + ERRORS + """)().length > 0;
  return idle && !prompts.some(t => t.includes('*')) && (failed || prompts.every(t => /\\[\\d+\\]/.test(t)));
}"""
CELL_WITH = """const cellWith = text => [...document.querySelectorAll('.jp-CodeCell')]
  .find(c => c.querySelector('.jp-InputArea').textContent.includes(text));"""
TARGET_READY = """([cell, expect]) => {""" + CELL_WITH + """
  const c = cellWith(cell);
  return !!c && !!c.querySelector('.jp-OutputArea ' + expect) && !c.textContent.includes('Loading widget');
}"""
SCROLL_TO = """([cell, align, margin]) => {""" + CELL_WITH + """
  const c = cellWith(cell);
  const out = c.querySelector('.jp-OutputArea').getBoundingClientRect();
  const scroller = c.closest('.jp-WindowedPanel-outer') || c.closest('.jp-NotebookPanel-notebook');
  const view = scroller.getBoundingClientRect();
  scroller.scrollTop += align === 'top' ? out.top - view.top - margin : out.bottom - view.bottom + margin;
}"""


def shutdown_kernels(url, token):
    """Stop every kernel of the server (a finished shot's kernel must not hold memory during the next one)."""
    with urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=10) as r:
        kernels = json.load(r)
    for k in kernels:
        req = urllib.request.Request(f"{url}/api/kernels/{k['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()


def take(page, url, token, name, shot, path, timeout_s):
    """Open shot.notebook in a fresh workspace, run all cells, scroll to the cell, save the viewport to path."""
    page.goto(f"{url}/lab/workspaces/{name}/tree/{shot.notebook}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
    wait_for(page, KERNEL_IDLE, 120, "the kernel to start")
    sidebar = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if sidebar.count():
        sidebar.first.click()  # collapse the file browser: more room for the notebook
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    t0 = time.time()
    wait_for(page, RUN_FINISHED, timeout_s, f"all cells of {shot.notebook} to run")
    errors = page.evaluate(ERRORS)
    if errors:
        raise RuntimeError(f"{shot.notebook} raised an error:\n{errors[0]}")
    wait_for(page, TARGET_READY, 60, f"{shot.expect!r} in the output of the cell with {shot.cell!r}",
             [shot.cell, shot.expect])
    page.evaluate(SCROLL_TO, [shot.cell, shot.align, shot.margin])
    page.mouse.move(0, 0)  # no hover highlight
    page.wait_for_timeout(1500)  # let plots and widgets settle after the scroll
    page.screenshot(path=path)
    return time.time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shots", nargs="*", metavar="SHOT", help=f"which shots (default: all of {', '.join(SHOTS)})")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "screenshots"), help="folder for the PNGs")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium", help="browser executable")
    ap.add_argument("--timeout", type=int, default=600, help="seconds allowed for running one notebook")
    ap.add_argument("--size", default="1400x1000", help="viewport WIDTHxHEIGHT in CSS pixels (device scale 1)")
    args = ap.parse_args(argv)
    unknown = [name for name in args.shots if name not in SHOTS]
    if unknown:
        ap.error(f"unknown shot(s) {', '.join(unknown)}; expected some of: {', '.join(SHOTS)}")
    args.shots = args.shots or list(SHOTS)
    from playwright.sync_api import sync_playwright  # only this tool needs it

    width, height = (int(v) for v in args.size.split("x"))
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minigpt-shots-") as workdir, \
            open(os.path.join(workdir, "jupyter.log"), "w") as log:
        proc = None
        try:
            proc, url, token = start_lab(workdir, log)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
                for name in args.shots:
                    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                    tmp = os.path.join(workdir, f"{name}.png")
                    try:
                        seconds = take(page, url, token, name, SHOTS[name], tmp, args.timeout)
                    except Exception:
                        failed = os.path.join(tempfile.gettempdir(), f"minigpt-shot-{name}-failed.png")
                        page.screenshot(path=failed)
                        sys.stderr.write(f"the page as it was when {name} failed: {failed}\n")
                        raise
                    path = os.path.join(args.out, f"{name}.png")
                    shutil.move(tmp, path)  # only finished pictures replace old ones
                    print(f"{SHOTS[name].notebook}: ran in {seconds:.0f}s -> {os.path.relpath(path)} "
                          f"({os.path.getsize(path) / 1024:.0f} KB)")
                    page.close()
                    shutdown_kernels(url, token)
                browser.close()
        except Exception:
            log.flush()
            with open(log.name) as f:
                sys.stderr.write("--- jupyter lab log (tail) ---\n" + f.read()[-3000:])
            raise
        finally:
            if proc is not None:
                stop_lab(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
