"""The experiments section of ``reports/README.md``, made from the study JSONs present.

One row per study: the paper's claim, this project's target, what was
measured and whether the claim holds; then the exact command, seeds and data
of each study. Rebuilt after every study, so the README never lags the files
beside it (and a study run alone refreshes only what it changed).
"""
from __future__ import annotations

import json
from pathlib import Path

from beatnet_core.experiments.common import DISPLAY, PAPER, STUDY_FILES, fmt, per_model, reused_runs

#: File written by ``beatnet experiments all``: its command and the time of each study.
ALL_FILE = "experiments_all.json"


def _verdict(value) -> str:
    return {True: "holds", False: "**does not hold**", None: "not measurable"}.get(value, "not measurable")


def summary_section(out_dir) -> str:
    """Markdown of the experiments summary for the report folder ``out_dir``."""
    out = Path(out_dir)
    data = {}
    for study, stem in STUDY_FILES.items():
        path = out / f"{stem}.json"
        if path.is_file():
            try:
                data[study] = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue
    lines = ["## Experiments: the paper's claims, measured side by side with the CNNs", "",
             f"Claims of {PAPER}, each measured by `beatnet experiments <study>` (code: "
             "`beatnet_core/experiments/`). Targets are goals, not assumptions: where a claim fails, the "
             "study's report says so and why we think so.", ""]
    run_all = out / ALL_FILE
    if run_all.is_file():
        info = json.loads(run_all.read_text())
        reused, total = reused_runs(*data.values())
        reuse = f"; {reused} of {total} training runs reused from earlier runs with the same configuration" \
            if reused else ""
        lines += ["All studies in one go (" + f"{info.get('date', '')}, {info.get('runtime_seconds', 0) / 60:.0f} min on "
                  f"{info.get('machine', '')}{reuse}" + "):", "", f"    {info['command']}", ""]
        if info.get("notes"):
            lines += [f"- {n}" for n in info["notes"]] + [""]
    if not data:
        return "\n".join(lines + ["(No study has been run yet.)"])
    lines += ["| study | target | measured | verdict | report |", "|---|---|---|---|---|"]
    for study, payload in data.items():
        target, measured, verdict = _ROWS[study](payload)
        stem = STUDY_FILES[study]
        lines.append(f"| {study} | {target} | {measured} | {verdict} | [{stem}.md]({stem}.md), "
                     f"[png]({stem}.png), [json]({stem}.json) |")
    lines += ["", "Commands, seeds and data:", ""]
    for study, payload in data.items():
        lines.append(f"- **{study}**: `{payload.get('command', '')}`; {_seeds_and_data(study, payload)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- one row per study

def _label_efficiency(p: dict):
    rec = p.get("recovery", {})
    parts = []
    for m, r in rec.items():
        f = r.get("fraction")
        parts.append(f"{DISPLAY.get(m, m)}: 97 % at {'-' if f is None else f'{100 * f:g} %'} "
                     f"(100 %: {fmt(r.get('full_auc'))})")
    claims = p.get("claims", {})
    verdict = "; ".join(f"{k.replace('_', ' ')}: {_verdict(v)}" for k, v in claims.items() if not isinstance(v, dict))
    return ("BEAT-Net 97 % of its 100 % AUC at <= 35 % of labels, above the CNN at every fraction <= 35 %",
            "; ".join(parts), verdict or "not measurable")


def _robustness(p: dict):
    group = p.get("headline_group", "pooled")
    claims = {k: v for k, v in p.get("claims", {}).items() if k.startswith(group + ":")}
    parts = [f"{k.split(':', 1)[1].rsplit(':', 1)[0]}: BEAT-Net drop {fmt(v['beatnet_drop'])} vs CNN "
             f"{fmt(v['cnn_drop'])}" for k, v in claims.items()]
    verdict = "; ".join(f"{k.split(':')[1]}: {_verdict(v['holds'])}" for k, v in claims.items())
    return ("at SNR 10 dB and 3 missing leads, BEAT-Net loses <= half the CNN's macro-AUC drop",
            f"({group}) " + "; ".join(parts), verdict or "not measurable")


def _attention(p: dict):
    g = p.get("groups", {})
    r, m = g.get("rhythm"), g.get("morphology")
    measured = (f"Lead II rank: rhythm {fmt(r and r.get('lead_ii_rank_of_group_mean'), 1)}, "
                f"morphology {fmt(m and m.get('lead_ii_rank_of_group_mean'), 1)}")
    verdict = "; ".join(f"{k.replace('_', ' ')}: {_verdict(v)}" for k, v in p.get("claims", {}).items())
    return ("Lead II in the top 3 leads for rhythm labels on average", measured, verdict or "not measurable")


def _external(p: dict):
    res = p.get("results", {}).get(p.get("primary", "shipped"), {})
    afib = res.get("AFIB")
    measured = ", ".join(f"{k} {fmt(v['auc'])} (n+={v['positives']})" for k, v in res.items() if v.get("auc") is not None)
    if afib is None:
        measured = "(no AFIB output) " + measured
    return ("AFIB AUC >= 0.95 on LUDB", measured or "-", _verdict(p.get("claims", {}).get("afib_auc_ge_0.95")))


_ROWS = {"label-efficiency": _label_efficiency, "robustness": _robustness, "attention": _attention,
         "external": _external}


def _seeds_and_data(study: str, p: dict) -> str:
    if study == "label-efficiency":
        d = p.get("data", {})
        return (f"seeds {p.get('seeds')}; fractions {[f'{100 * f:g}%' for f in p.get('fractions', [])]}; PTB-XL "
                f"`{d.get('ptbxl')}` ({d.get('records')} records: train {d.get('train_records')}, val "
                f"{d.get('val_records')}, test {d.get('test_records')}); epochs at 100 %: "
                f"{per_model(p.get('budget', {}).get('epochs'))}")
    if study == "robustness":
        groups = ", ".join(f"{g} {v['records']}" for g, v in p.get("groups", {}).items())
        return f"corruption seed {p.get('seed')}; runs {list(p.get('runs', {}))}; PTB-XL test records: {groups}"
    if study == "attention":
        return f"runs {p.get('runs')}; {p.get('test_records')} PTB-XL test records; attribution {p.get('attribution')}"
    if study == "external":
        return (f"model `{p.get('model')}`; {p.get('records')} LUDB records in `{p.get('ludb')}`; bootstrap "
                f"{p.get('bootstrap')}")
    return ""
