"""Benchmark the app in a real browser: time to diagnosis + trace, and to Captum attributions.

    python3 scripts/bench_app.py [--samples 5] [--json out.json]

Starts the app (app/launch.py, the same server options as scripts/start.sh)
on a free local port, drives Debian's chromium with Playwright and prints:

1. **diagnosis + trace**: from the click on a sample in the gallery to the
   moment its trace (all 12 leads and the rhythm strip) and its probability
   chart are drawn in the page; one fresh browser session and a different
   sample each time, so nothing is cached. Target: <= 3 s.
2. **Captum, one label**: on the Explain page, from choosing another label to
   its Integrated Gradients overlay being drawn (which needs the lead and beat
   ablations too). Target: <= 3 s.

The model is the bundled one (assets/model), or the run directory in
$BEATNET_MODEL. Needs /usr/bin/chromium (scripts/test.sh installs it).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from app import launch, samples  # noqa: E402  (light: no model, no Streamlit import)

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]

TARGET_S = 3.0

TRACE_AND_DIAGNOSIS = """(title) => {
  const h = [...document.querySelectorAll('h3')].some(e => e.innerText.trim() === title);
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const trace = plots.some(gd => gd.data && gd.data.some(t => t.name === 'II rhythm') && gd.querySelector('.scatterlayer path'));
  const probs = plots.some(gd => gd.data && gd.data.length && gd.data[0].type === 'bar' && gd.querySelector('.barlayer path'));
  return h && trace && probs && document.body.innerText.includes('Model diagnosis');
}"""
ANY_IG_LABEL = """() => { for (const gd of document.querySelectorAll('.js-plotly-plot')) for (const t of (gd.data || []))
  if (t.type === 'heatmap' && t.colorbar && t.colorbar.title && (t.colorbar.title.text || '').startsWith('evidence for '))
    return t.colorbar.title.text.slice('evidence for '.length); return null; }"""
IG_DRAWN = """(label) => [...document.querySelectorAll('.js-plotly-plot')].some(gd => gd.data && gd.data.some(
  t => t.type === 'heatmap' && t.colorbar && t.colorbar.title && t.colorbar.title.text === 'evidence for ' + label)
  && gd.querySelector('.scatterlayer path'))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the app exited during start-up")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app did not answer on {url} within {timeout:.0f} s")


def _title_of(option: str) -> str:
    return re.sub(r" \([^()]*; [^()]*\)$", "", option)


def bench(url: str, n_samples: int) -> dict:
    from playwright.sync_api import sync_playwright

    out = {"diagnosis_s": [], "captum_s": [], "samples": [], "labels": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        # warm the server once (model load, imports), as a user's first page view does
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url)
        page.locator('[data-testid="stSelectbox"]').first.wait_for(timeout=120_000)
        page.close()
        for name in [row["title"] for row in samples.load_manifest()][:n_samples]:   # the gallery's order
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url)
            chooser = page.locator('[data-testid="stSelectbox"]').first
            chooser.wait_for(timeout=60_000)
            chooser.click()
            option = page.get_by_role("option", name=re.compile("^" + re.escape(name))).first
            title = _title_of(option.inner_text().strip())
            t0 = time.perf_counter()
            option.click()
            page.wait_for_function(TRACE_AND_DIAGNOSIS, arg=title, timeout=60_000, polling=50)
            out["diagnosis_s"].append(time.perf_counter() - t0)
            out["samples"].append(title)
            if len(out["captum_s"]) < 2:   # attributions on the first two samples
                page.get_by_role("link", name="Explain").first.click()
                box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Diagnosis to explain")
                box.wait_for(timeout=60_000)
                handle = page.wait_for_function(ANY_IG_LABEL, timeout=120_000, polling=50)
                first = handle.json_value()
                box.click()
                options = page.get_by_role("option").all_inner_texts()
                label = next(o.split(" · ")[0] for o in options if not o.startswith(first + " "))
                t0 = time.perf_counter()
                page.get_by_role("option", name=re.compile("^" + re.escape(label) + " · ")).first.click()
                page.wait_for_function(IG_DRAWN, arg=label, timeout=120_000, polling=50)
                out["captum_s"].append(time.perf_counter() - t0)
                out["labels"].append(label)
            page.close()
        browser.close()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=5, help="how many samples to choose (fresh session each)")
    ap.add_argument("--json", type=Path, help="also write the timings here")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = open(os.devnull, "w")
    proc = subprocess.Popen(launch.command(port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        _wait_healthy(url, proc)
        res = bench(url, args.samples)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
    model = os.environ.get("BEATNET_MODEL") or "bundled (assets/model)"
    print(f"BEAT-Net app benchmark · {os.cpu_count()} CPU cores · model: {model}")
    print("diagnosis + trace visible after choosing a sample (s):")
    for name, s in zip(res["samples"], res["diagnosis_s"]):
        print(f"  {s:5.2f}  {name}")
    print("Captum attributions for one label drawn after choosing it (s):")
    for name, s in zip(res["labels"], res["captum_s"]):
        print(f"  {s:5.2f}  {name}")
    for key, what in (("diagnosis_s", "diagnosis + trace"), ("captum_s", "Captum, one label")):
        v = res[key]
        if v:
            verdict = "OK" if max(v) <= TARGET_S else "OVER"
            print(f"{what}: median {statistics.median(v):.2f} s, max {max(v):.2f} s "
                  f"(target <= {TARGET_S:g} s: {verdict})")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
