"""External validation: the shipped model on all 200 LUDB records (another hospital, device, country).

PTB-XL was recorded in Germany (Schiller devices, 1989-1996); LUDB in Nizhny
Novgorod, Russia (Kalyakulina et al. 2020), 10 s, 12 leads, 500 Hz. Each LUDB
record is read from its WFDB files and diagnosed by
:class:`beatnet_core.predict.BeatNetPredictor` exactly as a user's file would
be (the deployed path: reader, conditioning, tokenizer on the raw record).
LUDB's diagnoses are mapped to the model's labels by
:mod:`beatnet_core.data.ludb` where the mapping is sound; every other
diagnosis is listed as not mapped, with the reason. Per label: AUC with
support and a 95 % percentile-bootstrap CI (:func:`beatnet_core.metrics.bootstrap_ci`,
records resampled), and sensitivity/specificity at the model's validation
thresholds.

Other runs (e.g. the 100 % label-efficiency runs of BEAT-Net and the CNN) can
be scored side by side; CNNs read ``condition(ecg)`` at 100 Hz in 2.5 s
windows, as in training (:class:`beatnet_core.train.SignalInputs`).
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from beatnet_core.ecg import ECGFormatError
from beatnet_core.experiments import common
from beatnet_core.experiments.common import DISPLAY, fmt, mean_sd
from beatnet_core.data.ludb import (NOT_MAPPED, label_level, ludb_targets, read_ludb_diagnoses, rule_for,
                                           unmapped_diagnoses)

#: The claim checked: AFIB AUC on LUDB at least this.
CLAIM_AFIB_AUC = 0.95


@common.uses_threads
def external_validation(data_dir, out_dir="reports", *, model=None, extra_runs=(), n_boot: int = 1000, seed: int = 0,
                        max_records: int | None = None, records=None, threads: int = 2, progress: bool = True,
                        write: bool = True, model_note: str | None = None, command: str | None = None) -> dict:
    """Score a model on LUDB against the mapped cardiologists' diagnoses.

    Parameters
    ----------
    data_dir : path
        The shared data folder (with ``ludb/``) or the LUDB folder (with ``data/``).
    out_dir : path
        Report folder: ``external_ludb.{md,json,png}``.
    model : path, optional
        A BEAT-Net run directory; None: the shipped model
        (:meth:`BeatNetPredictor.load`, ``assets/model`` or ``$BEATNET_MODEL``).
    extra_runs : sequence of paths
        More run directories (any model) to score side by side.
    n_boot, seed : int
        Bootstrap resamples and seed of the CIs.
    max_records : int, optional
        Only about this many LUDB records, evenly spaced (smoke runs).
    records : sequence of int, optional
        Only these LUDB record numbers.
    threads : int
        torch threads.
    progress, write : bool
    model_note : str, optional
        A sentence on where the model comes from, for the report.
    command : str, optional
        The command line to record (default: the equivalent ``beatnet experiments`` command).

    Returns
    -------
    dict
        JSON payload: ``mapping``, ``not_mapped``, ``results`` (run -> label -> AUC, CI, support, ...),
        ``side_by_side``, ``claims``.
    """
    from beatnet_core.io import load_ecg

    t0 = time.perf_counter()
    folder = common.ludb_dir(data_dir)
    primary = Path(model) if model else common.bundled_model()
    if primary is None:
        raise FileNotFoundError("no shipped model (assets/model or $BEATNET_MODEL); pass model=<run dir>")
    diagnoses = read_ludb_diagnoses(folder)
    ids = list(diagnoses) if records is None else [int(r) for r in records]
    if max_records and len(ids) > max_records:
        ids = [ids[i] for i in np.linspace(0, len(ids) - 1, max_records).round().astype(int)]
    diagnoses = {i: diagnoses[i] for i in ids}
    ecgs = [load_ecg(folder / "data" / f"{i}.hea") for i in ids]

    runs = common.load_runs([primary, *extra_runs])
    keys = _keys(runs)
    results, failed = {}, {}
    for key, run in zip(keys, runs):
        scores, failures = _SCORERS[run.kind](run, ecgs, progress)
        failed[key] = [ids[i] for i in failures]
        results[key] = _per_label(run, diagnoses, scores, n_boot, seed)
    primary_key = keys[0]
    payload = {
        "study": "external",
        "study_command": common.cli_command("external", {"data": str(data_dir), "out": str(out_dir),
                                                   "model": str(primary) if model else None,
                                                   "extra_runs": [str(r) for r in extra_runs] or None,
                                                   "n_boot": n_boot, "max_records": max_records}),
        "model": common.display_path(primary), "model_note": model_note, "task": runs[0].info["task"],
        "model_labels": runs[0].labels, "ludb": common.display_path(folder), "records": len(ids),
        "diagnosis_source": "ludb.csv" if (folder / "ludb.csv").is_file() else "headers",
        "mapping": _mapping_table(runs, diagnoses), "not_mapped": {
            "ludb_diagnoses_without_label": unmapped_diagnoses(diagnoses), "reasons": NOT_MAPPED,
            "model_labels_without_rule": [c for c in runs[0].labels if rule_for(c, runs[0].info["task"]) is None]},
        "runs": {k: common.display_path(r.path) for k, r in zip(keys, runs)}, "primary": primary_key,
        "results": results, "records_without_beats": failed,
        "side_by_side": _side_by_side(runs, keys, results),
        "bootstrap": {"n_boot": n_boot, "seed": seed},
        "runtime_seconds": time.perf_counter() - t0, "environment": common.environment(),
    }
    afib = results[primary_key].get("AFIB")
    payload["claims"] = {"afib_auc_ge_0.95": None if not afib or afib["auc"] is None else afib["auc"] >= CLAIM_AFIB_AUC}
    payload["figure"] = {"labels": [c for c, r in results[primary_key].items() if r["auc"] is not None],
                         "auc": [r["auc"] for r in results[primary_key].values() if r["auc"] is not None],
                         "ci95": [r["auc_ci95"] for r in results[primary_key].values() if r["auc"] is not None],
                         "support": [r["positives"] for r in results[primary_key].values() if r["auc"] is not None],
                         "side_by_side": payload["side_by_side"]}
    payload["command"] = command or payload["study_command"]
    if write:
        common.write_study(out_dir, "external", _markdown(payload), payload, _figure(payload))
    return common.jsonable(payload)


# --------------------------------------------------------------------------- scoring

def _keys(runs) -> list[str]:
    keys = []
    for j, r in enumerate(runs):
        k = "shipped" if j == 0 else f"{r.name}/seed{r.seed}"
        while k in keys:
            k += "+"
        keys.append(k)
    return keys


def _score_tokens(run, ecgs, progress: bool):
    """BEAT-Net through the predictor (the deployed path); NaN rows where no beat is found."""
    from tqdm.auto import tqdm

    from beatnet_core.predict import BeatNetPredictor

    predictor = BeatNetPredictor(run.model, run.info, run.path)
    out = np.full((len(ecgs), len(predictor.label_names)), np.nan)
    failures = []
    for start in tqdm(range(0, len(ecgs), 32), desc="LUDB", unit="batch", disable=not progress, leave=False):
        chunk = list(range(start, min(start + 32, len(ecgs))))
        try:
            preds = predictor.predict_many([ecgs[i] for i in chunk])
            for i, pred in zip(chunk, preds):
                out[i] = [pred.probabilities[c] for c in predictor.label_names]
        except ECGFormatError:
            for i in chunk:
                try:
                    pred = predictor.predict(ecgs[i])
                    out[i] = [pred.probabilities[c] for c in predictor.label_names]
                except ECGFormatError:
                    failures.append(i)
    return out, failures


def _score_signal(run, ecgs, progress: bool):
    """A CNN on the conditioned records, 2.5 s windows at 100 Hz, as in training."""
    from beatnet_core.signal import condition
    from beatnet_core.train import SignalInputs, predict_scores

    spec = run.info["spec"]
    x = np.stack([condition(e, spec)[: int(round(10 * spec.fs))] for e in ecgs])
    records = SimpleNamespace(signals=x, fs=float(spec.fs))        # what SignalInputs reads of a dataset
    return predict_scores(run.model, SignalInputs(records), np.arange(len(ecgs))), []


_SCORERS = {"tokens": _score_tokens, "signal": _score_signal}


def _per_label(run, diagnoses, scores, n_boot: int, seed: int) -> dict:
    from beatnet_core.metrics import bootstrap_ci, per_class_auc

    task = run.info["task"]
    y = ludb_targets(diagnoses, run.labels, task)
    thresholds = np.asarray(run.info["thresholds"], float)
    out = {}
    for k, label in enumerate(run.labels):
        rule = rule_for(label, task)
        if rule is None:
            continue
        keep = (y[:, k] >= 0) & np.isfinite(scores[:, k])
        yy, ss = y[keep, k:k + 1].astype(int), scores[keep, k:k + 1]
        pos, neg = int(yy.sum()), int((yy == 0).sum())
        row = {"level": label_level(label, task), "positives": pos, "negatives": neg,
               "left_out": int((~keep).sum()), "auc": None, "auc_ci95": [None, None],
               "sensitivity": None, "specificity": None, "threshold": float(thresholds[k])}
        if pos and neg:
            row["auc"] = float(per_class_auc(yy, ss)[0])
            with warnings.catch_warnings():      # resamples without a positive give no AUC (and a warning)
                warnings.simplefilter("ignore", RuntimeWarning)
                row["auc_ci95"] = bootstrap_ci(yy, ss, n_boot=n_boot, seed=seed)["per_class_auc"][0]
            pred = ss[:, 0] >= thresholds[k]
            row["sensitivity"] = float(pred[yy[:, 0] == 1].mean())
            row["specificity"] = float((~pred[yy[:, 0] == 0]).mean())
        out[label] = row
    return out


def _mapping_table(runs, diagnoses) -> list[dict]:
    rows, seen = [], set()
    for run in runs:
        task = run.info["task"]
        y = ludb_targets(diagnoses, run.labels, task)
        for k, label in enumerate(run.labels):
            rule = rule_for(label, task)
            level = label_level(label, task)
            if rule is None or (level, label) in seen:
                continue
            seen.add((level, label))
            rows.append({"label": label, "level": level, "ludb": rule.note, "positives": int((y[:, k] == 1).sum()),
                         "left_out": int((y[:, k] == -1).sum()), "patterns": list(rule.positive),
                         "ambiguous": list(rule.ambiguous)})
    return rows


def _side_by_side(runs, keys, results) -> dict:
    """Per model name (extra runs only): label -> mean +- sd AUC over seeds."""
    out: dict = {}
    for key, run in list(zip(keys, runs))[1:]:
        for label, r in results[key].items():
            out.setdefault(run.name, {}).setdefault(label, []).append(r["auc"])
    return {m: {lbl: dict(zip(("mean", "sd"), mean_sd(v)), n=len(v)) for lbl, v in by.items()}
            for m, by in out.items()}


# --------------------------------------------------------------------------- report

def _figure(p: dict):
    fig, ax = common.new_figure(7.5, 4.2)
    f = p["figure"]
    x = np.arange(len(f["labels"]))
    auc = np.array(f["auc"], float)
    lo = np.array([a - (c[0] if c[0] is not None else a) for a, c in zip(auc, f["ci95"])])
    hi = np.array([(c[1] if c[1] is not None else a) - a for a, c in zip(auc, f["ci95"])])
    ax.errorbar(x, auc, yerr=[lo, hi], fmt="o", capsize=3, label=f"shipped model ({DISPLAY.get('beatnet')})")
    for j, (model, by) in enumerate(f["side_by_side"].items()):
        vals = [by.get(lbl, {}).get("mean") for lbl in f["labels"]]
        ax.plot(x + 0.15 * (j + 1), [np.nan if v is None else v for v in vals], "s", alpha=0.7,
                label=f"{DISPLAY.get(model, model)} (mean of seeds)")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{lbl}\n(n+={n})" for lbl, n in zip(f["labels"], f["support"])], fontsize=8)
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("AUC on LUDB (95% bootstrap CI)")
    ax.set_title("External validation on LUDB (200 records, 500 Hz, Russia)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def _markdown(p: dict) -> str:
    res = p["results"][p["primary"]]
    lines = [
        "# External validation on LUDB", "",
        f"The shipped model on the Lobachevsky University database ({common.LUDB_REF}): {p['records']} records, "
        "12 leads, 500 Hz, 10 s, from another hospital, device and country than PTB-XL. Target: AFIB AUC >= 0.95.",
        "", *common.measured(p),
        f"Model: `{p['model']}` (task `{p['task']}`, outputs {p['model_labels']})"
        + (f". {p['model_note']}" if p.get("model_note") else "") + f". Diagnoses read from {p['diagnosis_source']}. "
        f"AUC 95 % CIs: percentile bootstrap over records, {p['bootstrap']['n_boot']} resamples, seed "
        f"{p['bootstrap']['seed']}. Sensitivity/specificity at the model's thresholds (chosen on PTB-XL validation).",
        "", "## Per label", "",
        "| label | level | positives | negatives | left out | AUC [95% CI] | sensitivity | specificity |",
        "|---|---|---|---|---|---|---|---|"]
    for label, r in res.items():
        ci = r["auc_ci95"]
        auc = "-" if r["auc"] is None else (f"{r['auc']:.3f} [{fmt(ci[0])}, {fmt(ci[1])}]")
        lines.append(f"| {label} | {r['level']} | {r['positives']} | {r['negatives']} | {r['left_out']} | {auc} | "
                     f"{fmt(r['sensitivity'])} | {fmt(r['specificity'])} |")
    if p["side_by_side"]:
        models = list(p["side_by_side"])
        labels = sorted({lbl for by in p["side_by_side"].values() for lbl in by})
        lines += ["", "## Side by side (mean +- sd AUC over seeds of the other runs)", "",
                  "| label | shipped | " + " | ".join(DISPLAY.get(m, m) for m in models) + " |",
                  "|---|---|" + "---|" * len(models)]
        for lbl in labels:
            cells = [fmt(p["side_by_side"][m].get(lbl, {}).get("mean"), 3, p["side_by_side"][m].get(lbl, {}).get("sd"))
                     for m in models]
            lines.append(f"| {lbl} | {fmt(res.get(lbl, {}).get('auc'))} | " + " | ".join(cells) + " |")
        lines += ["", "Runs: " + ", ".join(f"`{k}` = `{v}`" for k, v in p["runs"].items()) + "."]
    lines += ["", "## Mapping (LUDB diagnosis -> model label)", "",
              "| label | level | LUDB diagnoses counted as positive | positives | left out (ambiguous) |",
              "|---|---|---|---|---|"]
    for m in p["mapping"]:
        lines.append(f"| {m['label']} | {m['level']} | {m['ludb']} | {m['positives']} | {m['left_out']} |")
    nm = p["not_mapped"]
    lines += ["", "Not mapped:", ""]
    lines += [f"- {k}: {v}" for k, v in nm["reasons"].items()]
    if nm["model_labels_without_rule"]:
        lines.append(f"- model labels with no LUDB counterpart: {', '.join(nm['model_labels_without_rule'])}")
    lines.append("- LUDB diagnoses matched by no rule (records): "
                 + ", ".join(f"{k} ({v})" for k, v in nm["ludb_diagnoses_without_label"].items()))
    claim = p["claims"]["afib_auc_ge_0.95"]
    lines += ["", "Claim `afib_auc_ge_0.95`: " + {True: "holds", False: "does NOT hold",
                                                  None: "not measurable (the model has no AFIB output)"}[claim]]
    if any(p["records_without_beats"].values()):
        lines.append(f"Records where no beat was found (left out): {p['records_without_beats']}")
    lines += ["", "![external validation](external_ludb.png)"]
    return "\n".join(lines)
