"""Attention: which leads BEAT-Net weights, per diagnosis, and does attribution agree?

The paper (Ma & Liao, arXiv 2601.07316) claims BEAT-Net's lead attention
rediscovers clinical habit without being told: Lead II (the classic rhythm
strip, where P waves are clearest) is prioritised for rhythm diagnoses. For
each test record (``strat_fold`` 10) one forward pass gives the lead
attention of every beat and the beat attention; their product summed over
beats (:func:`beatnet_core.explain.attention_lead_importance`) is the share of
the record's representation that came through each lead (sums to 1 over the
usable leads; uniform = 1/12). Then, per PTB-XL label carried by the records
(ground truth, whatever the model's outputs):

- the mean lead importance over the records carrying the label, and the rank
  of Lead II in it (1 = most attended);
- the same for the rhythm statements (``SR``, ``AFIB``, ``STACH``, ...) vs the
  morphology classes (``MI``, ``STTC``, ``CD``, ``HYP``), the paper's contrast.

Attention is one map per record, the same for every output. Attribution is
per output: for every record and every model label it carries, the drop of
that label's logit when each lead is hidden (Captum ``FeatureAblation`` over
the lead mask, :func:`beatnet_core.explain.lead_attribution`; Kokhlikyan et
al. 2020). Their agreement is the Spearman correlation over the record's
usable leads, summarised per label (median and quartiles).

Caveat, stated in the report: a model trained on superdiagnostic labels only
has no rhythm output, so for it the rhythm rows describe where it looks on
records *with* that rhythm, not where it looks *to diagnose* it; pass a run
trained with rhythm labels (e.g. ``--task superdiagnostic+rhythm``) to test
the claim as the paper states it. BEAT-Net also reads rhythm from the RR
intervals of the fused detector, which belong to no lead.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from beatnet_core.data.labels import SUPERCLASSES
from beatnet_core.ecg import LEAD_INDEX, LEADS
from beatnet_core.experiments import common
from beatnet_core.experiments.common import fmt, mean_sd

#: Morphology labels of the contrast (the diagnostic superclasses except NORM).
MORPHOLOGY = ("MI", "STTC", "CD", "HYP")
LEAD_II = LEAD_INDEX["II"]
#: The claim: Lead II among the top this-many leads for rhythm labels, on average.
CLAIM_TOP = 3


@common.uses_threads
def attention(data_dir, out_dir="reports", runs_dir="runs/experiments", *, runs=None,
              attribution: str = "ablation", min_support: int = 4, max_records: int | None = None,
              threads: int = 2, progress: bool = True, write: bool = True, command: str | None = None) -> dict:
    """Lead attention per label, Lead II's rank for rhythm vs morphology, agreement with attribution.

    Parameters
    ----------
    data_dir : path
        The shared data folder (with ``ptbxl/``) or the PTB-XL folder.
    out_dir : path
        Report folder: ``attention.{md,json,png}``.
    runs_dir : path
        Folder of the label-efficiency runs; its 100 % BEAT-Net runs are used when ``runs`` is None
        (and the shipped model if there are none).
    runs : list of paths, optional
        BEAT-Net run directories (several seeds are averaged).
    attribution : {"ablation", "integrated_gradients"}
        Lead-level attribution compared with attention: lead ablation (the
        default, Captum FeatureAblation over the lead mask) or Integrated
        Gradients summed over each lead's samples (32 x slower).
    min_support : int
        Labels carried by fewer test records are left out.
    max_records : int, optional
        At most this many test records (smoke runs).
    threads : int
        torch threads.
    progress, write : bool
    command : str, optional
        The command line to record (default: the equivalent ``beatnet experiments`` command).

    Returns
    -------
    dict
        JSON payload: ``labels`` (per label: group, support, mean importance,
        Lead II rank, Spearman summary), ``groups``, ``claims``, ``figure``.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    if attribution not in _ATTRIBUTIONS:
        raise ValueError(f"unknown attribution {attribution!r}; choose from {sorted(_ATTRIBUTIONS)}")
    paths = [str(p) for p in runs] if runs else [str(p) for p in common.find_full_runs(runs_dir).get("beatnet", [])]
    if not paths and common.bundled_model() is not None:
        paths = [str(common.bundled_model())]
    if not paths:
        raise FileNotFoundError(f"no BEAT-Net run: pass runs=... or run the label-efficiency study into {runs_dir}")

    per_run = []
    for path in tqdm(paths, desc="attention", unit="run", disable=not progress):
        per_run.append(_one_run(path, data_dir, attribution, min_support, max_records, progress))
    labels = _merge(per_run)
    groups = _groups(per_run, labels)
    payload = {
        "study": "attention",
        "study_command": common.cli_command("attention", {
            "data": str(data_dir), "out": str(out_dir), "runs_dir": None if runs else str(runs_dir),
            "runs": paths if runs else None, "attribution": attribution, "min_support": min_support,
            "max_records": max_records}),
        "runs": paths, "tasks": sorted({r["task"] for r in per_run}),
        "model_labels": per_run[0]["model_labels"], "attribution": attribution, "leads": list(LEADS),
        "test_records": per_run[0]["records"], "min_support": min_support,
        "labels": labels, "groups": groups,
        "parts": {k: _distribution([v for r in per_run for v in r["parts"].get(k, [])])
                  for k in sorted({k for r in per_run for k in r["parts"]})},
        "per_run": [{k: v for k, v in r.items() if k not in ("raw", "parts")} for r in per_run],
        "claims": _claims(groups),
        "runtime_seconds": time.perf_counter() - t0, "environment": common.environment(),
    }
    payload["figure"] = {"rows": list(labels), "columns": list(LEADS),
                         "values": [labels[k]["mean_importance"] for k in labels],
                         "groups": [labels[k]["group"] for k in labels],
                         "spearman": {k: labels[k]["spearman"]["values"] for k in labels if labels[k]["spearman"]}}
    payload["command"] = command or payload["study_command"]
    if write:
        common.write_study(out_dir, "attention", _markdown(payload), payload, _figure(payload))
    return common.jsonable(payload)


# --------------------------------------------------------------------------- one run

def _one_run(path, data_dir, attribution: str, min_support: int, max_records, progress: bool) -> dict:
    import torch
    from scipy.stats import spearmanr

    from beatnet_core.data.labels import read_scp_statements, task_labels
    from beatnet_core.data.ptbxl import read_database
    from beatnet_core.explain import attention_lead_importance, attention_whole_beat_share
    from beatnet_core.predict import BeatNetPredictor, Prediction
    from beatnet_core.train import saved_train_config

    predictor = BeatNetPredictor.load(path)
    cfg = saved_train_config(predictor.run["config"])
    ds = common.load_dataset(data_dir, predictor.run["task"], cfg["min_count"], None, progress)
    test = ds.split(cfg["test_fold"]).test   # the run's own held-out fold
    if max_records and test.size > max_records:
        test = test[np.linspace(0, test.size - 1, max_records).round().astype(int)]
    part = ds.take(test)
    tokens = common.token_inputs(part, progress).items

    # ground truth of the test records: rhythm statements and diagnostic superclasses
    folder = common.ptbxl_dir(data_dir)
    codes = read_database(folder).loc[part.ecg_id, "scp_codes"]
    statements = read_scp_statements(folder)
    truth = {}
    for task, keep in (("rhythm", None), ("superdiagnostic", SUPERCLASSES)):
        names, y = task_labels(codes, statements, task)
        for k, name in enumerate(names):
            if (keep is None or name in keep) and y[:, k].sum() >= min_support:
                truth[name] = {"group": "rhythm" if task == "rhythm" else
                               ("morphology" if name in MORPHOLOGY else "normal"), "mask": y[:, k].astype(bool)}

    # one forward pass per batch: probabilities and attention together
    importance = np.zeros((len(tokens), len(LEADS)))
    preds = []
    parts = {"whole_beat_share": [], "rhythm_summary_share": []}   # what the two heatmaps do not split
    with torch.no_grad():
        for start in range(0, len(tokens), 64):
            chunk = tokens[start:start + 64]
            logits, att = predictor.model(**predictor.model_inputs(chunk))
            p = torch.sigmoid(logits).numpy()
            for j, tok in enumerate(chunk):
                n = tok.windows.shape[0]
                la, ba = att["lead_attention"][j, :n].numpy(), att["beat_attention"][j, :n].numpy()
                importance[start + j] = attention_lead_importance(SimpleNamespace(lead_attention=la,
                                                                                  beat_attention=ba))
                if n and "whole_beat_share" in att:
                    parts["whole_beat_share"].append(attention_whole_beat_share(SimpleNamespace(
                        whole_beat_share=att["whole_beat_share"][j, :n].numpy(), beat_attention=ba)))
                if n and "rhythm_summary_share" in att:
                    parts["rhythm_summary_share"].append(float(att["rhythm_summary_share"][j]))
                preds.append(Prediction(probabilities=dict(zip(predictor.label_names, map(float, p[j]))), labels=[],
                                        thresholds={}, descriptions=predictor.descriptions, lead_attention=la,
                                        beat_attention=ba, r_peaks=tok.r_samples, tokens=tok))

    # attribution for each model label a record carries
    y_model = common.label_columns(part, predictor.label_names)
    rho: dict[str, list[float]] = {}
    for i, pred in enumerate(preds):
        usable = np.asarray(pred.tokens.lead_mask, bool)
        if pred.tokens.windows.shape[0] == 0 or usable.sum() < 3:
            continue
        for k in np.flatnonzero(y_model[i]):
            attr = _ATTRIBUTIONS[attribution](predictor, pred, int(k))
            a, b = importance[i, usable], attr[usable]
            if np.ptp(a) > 0 and np.ptp(b) > 0:
                rho.setdefault(predictor.label_names[k], []).append(float(spearmanr(a, b).statistic))

    per_label = {}
    for name, t in truth.items():
        imp = importance[t["mask"]]
        mean = imp.mean(axis=0)
        per_label[name] = {"group": t["group"], "support": int(t["mask"].sum()), "mean_importance": mean,
                           "lead_ii_rank": _rank(mean, LEAD_II),
                           "lead_ii_rank_per_record_mean": float(np.mean([_rank(r, LEAD_II) for r in imp])),
                           "top3": [LEADS[j] for j in np.argsort(-mean, kind="stable")[:3]],
                           "spearman": rho.get(name, [])}
    return {"run": common.display_path(path), "task": predictor.run["task"], "model_labels": predictor.label_names,
            "records": int(len(part)), "overall_mean_importance": importance.mean(axis=0),
            "overall_lead_ii_rank": _rank(importance.mean(axis=0), LEAD_II), "labels": per_label,
            "parts": {k: v for k, v in parts.items() if v},
            "records_without_beats": int(sum(t.windows.shape[0] == 0 for t in tokens))}


def _rank(values: np.ndarray, lead: int) -> int:
    """Rank (1 = largest) of ``lead`` in ``values``; ties share the better rank."""
    return int(1 + np.sum(np.asarray(values) > values[lead]))


def _ablation(predictor, pred, k: int) -> np.ndarray:
    from beatnet_core.explain import lead_attribution

    return lead_attribution(predictor, pred, k)


def _integrated_gradients(predictor, pred, k: int) -> np.ndarray:
    from beatnet_core.explain import integrated_gradients

    return integrated_gradients(predictor, pred, k).sum(axis=(0, 2))


_ATTRIBUTIONS = {"ablation": _ablation, "integrated_gradients": _integrated_gradients}


# --------------------------------------------------------------------------- across runs

def _merge(per_run: list[dict]) -> dict:
    """Per label, averaged over runs (seeds): importance, Lead II rank (mean +- sd), Spearman pooled."""
    order = {"rhythm": 0, "morphology": 1, "normal": 2}
    names = sorted({n for r in per_run for n in r["labels"]},
                   key=lambda n: (order[per_run[0]["labels"].get(n, {"group": "normal"})["group"]], n))
    out = {}
    for name in names:
        rs = [r["labels"][name] for r in per_run if name in r["labels"]]
        mean = np.mean([r["mean_importance"] for r in rs], axis=0)
        ranks = [r["lead_ii_rank"] for r in rs]
        rho = [v for r in rs for v in r["spearman"]]
        m, s = mean_sd(ranks)
        out[name] = {"group": rs[0]["group"], "support": rs[0]["support"], "mean_importance": mean,
                     "lead_ii_rank_of_mean": _rank(mean, LEAD_II), "lead_ii_rank_mean_over_runs": m,
                     "lead_ii_rank_sd_over_runs": s, "lead_ii_rank_per_run": ranks,
                     "lead_ii_rank_per_record_mean": float(np.mean([r["lead_ii_rank_per_record_mean"] for r in rs])),
                     "top3": [LEADS[j] for j in np.argsort(-mean, kind="stable")[:3]],
                     "spearman": _distribution(rho)}
    return out


def _distribution(values: list[float]) -> dict | None:
    """Median, quartiles, mean and the values of a list of per-record numbers (Spearman rhos, shares)."""
    if not values:
        return None
    v = np.asarray(values)
    return {"n": int(v.size), "median": float(np.median(v)), "q25": float(np.percentile(v, 25)),
            "q75": float(np.percentile(v, 75)), "mean": float(v.mean()), "share_positive": float((v > 0).mean()),
            "values": v.round(4).tolist()}


def _groups(per_run: list[dict], labels: dict) -> dict:
    """Lead II's rank in the attention averaged over each group's labels, per run, then over runs."""
    out = {}
    for group, subset in (("rhythm", lambda n, g: g == "rhythm"),
                          ("rhythm_except_SR", lambda n, g: g == "rhythm" and n != "SR"),
                          ("morphology", lambda n, g: g == "morphology")):
        ranks, label_ranks, names = [], [], None
        for r in per_run:
            chosen = [n for n, v in r["labels"].items() if subset(n, v["group"])]
            if not chosen:
                continue
            names = chosen
            avg = np.mean([r["labels"][n]["mean_importance"] for n in chosen], axis=0)
            ranks.append(_rank(avg, LEAD_II))
            label_ranks.append(np.mean([r["labels"][n]["lead_ii_rank"] for n in chosen]))
        if not ranks:
            continue
        m, s = mean_sd(ranks)
        lm, ls = mean_sd(label_ranks)
        rho = [v for n in names for v in (labels[n]["spearman"] or {}).get("values", [])]
        out[group] = {"labels": names, "lead_ii_rank_of_group_mean": m, "sd_over_runs": s,
                      "lead_ii_rank_mean_over_labels": lm, "lead_ii_rank_mean_over_labels_sd": ls,
                      "spearman": _distribution(rho)}
    return out


def _claims(groups: dict) -> dict:
    r = groups.get("rhythm")
    m = groups.get("morphology")
    return {
        "lead_ii_in_top3_for_rhythm": None if r is None else r["lead_ii_rank_of_group_mean"] <= CLAIM_TOP,
        "lead_ii_ranked_higher_for_rhythm_than_morphology": None if r is None or m is None else
        r["lead_ii_rank_of_group_mean"] < m["lead_ii_rank_of_group_mean"],
    }


# --------------------------------------------------------------------------- report

def _figure(p: dict):
    fig, (ax, bx) = common.new_figure(13.0, 0.38 * len(p["figure"]["rows"]) + 2.2, ncols=2)
    rows = p["figure"]["rows"]
    values = np.array(p["figure"]["values"], float).reshape(len(rows), len(LEADS))
    im = ax.imshow(values, aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(LEADS)))
    ax.set_xticklabels(LEADS, fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r} ({p['labels'][r]['group']}, n={p['labels'][r]['support']})" for r in rows],
                       fontsize=8)
    for i in range(len(rows)):
        for j in range(len(LEADS)):
            ax.text(j, i, f"{100 * values[i, j]:.1f}", ha="center", va="center", fontsize=6,
                    color="white" if values[i, j] < values.max() * 0.6 else "black")
    ax.add_patch(_rect(LEAD_II, len(rows)))
    ax.set_title("Mean lead attention (%) over test records with each label")
    fig.colorbar(im, ax=ax, fraction=0.03)
    data = [p["labels"][r]["spearman"]["values"] if p["labels"][r]["spearman"] else [] for r in rows]
    has = [i for i, d in enumerate(data) if d]
    if has:
        bx.boxplot([data[i] for i in has], orientation="horizontal", tick_labels=[rows[i] for i in has])
        bx.invert_yaxis()
    bx.axvline(0, color="grey", linewidth=0.8)
    bx.set_xlabel(f"Spearman(attention, lead {p['attribution']}) per record")
    bx.set_title("Agreement of attention with attribution (model labels)")
    return fig


def _rect(col: int, n_rows: int):
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, -0.5), 1, n_rows, fill=False, edgecolor="red", linewidth=1.5)


def _markdown(p: dict) -> str:
    lines = [
        "# Attention: lead attention per diagnosis, Lead II for rhythm, agreement with attribution", "",
        f"Claim tested ({common.PAPER}): BEAT-Net's lead attention prioritises Lead II for rhythm diagnoses; "
        f"target here: Lead II in the top {CLAIM_TOP} leads for the rhythm labels on average.", "",
        *common.measured(p),
        f"Runs ({len(p['runs'])}, averaged): {', '.join(f'`{r}`' for r in p['runs'])}; task(s) {p['tasks']}, "
        f"outputs {p['model_labels']}. Records: PTB-XL test fold (`strat_fold` 10), {p['test_records']} records; "
        f"labels carried by at least {p['min_support']} of them. Importance of a lead = lead attention x beat "
        "attention summed over beats (sums to 1; uniform 8.3 %). Rank 1 = most attended.", "",
        *_parts_note(p.get("parts", {})),
    ]
    if not any(lbl in p["model_labels"] for lbl in (v for v, d in p["labels"].items() if d["group"] == "rhythm")):
        lines += ["**Caveat:** these runs have no rhythm output, so the rhythm rows show where the model looks on "
                  "records with that rhythm, not where it looks to diagnose it; a run trained with rhythm labels "
                  "tests the claim as stated.", ""]
    lines += ["| label | group | records | Lead II rank (of mean; per run) | top 3 leads | Spearman attention vs "
              "attribution: median [IQR] (n) |", "|---|---|---|---|---|---|"]
    for name, d in p["labels"].items():
        s = d["spearman"]
        rho = "-" if not s else f"{s['median']:.2f} [{s['q25']:.2f}, {s['q75']:.2f}] ({s['n']})"
        lines.append(f"| {name} | {d['group']} | {d['support']} | {d['lead_ii_rank_of_mean']} "
                     f"({', '.join(map(str, d['lead_ii_rank_per_run']))}) | {', '.join(d['top3'])} | {rho} |")
    lines += ["", "| group | labels | Lead II rank in the group's mean attention (mean +- sd over runs) | "
              "mean of the labels' ranks | Spearman median (n) |", "|---|---|---|---|---|"]
    for g, d in p["groups"].items():
        s = d["spearman"]
        rho = "-" if not s else f"{s['median']:.2f} ({s['n']})"
        lines.append(f"| {g} | {', '.join(d['labels'])} | {fmt(d['lead_ii_rank_of_group_mean'], 1, d['sd_over_runs'])}"
                     f" | {fmt(d['lead_ii_rank_mean_over_labels'], 1)} | {rho} |")
    lines += ["", "Claims:", ""]
    for key, value in p["claims"].items():
        lines.append(f"- `{key}`: " + {True: "holds", False: "does NOT hold", None: "not measurable"}[value])
    lines += ["", "Spearman is computed only for the model's own outputs (attribution needs an output); per "
              "record over its usable leads. ![attention](attention.png)"]
    lines += _reading(p)
    return "\n".join(lines)


def _parts_note(parts: dict) -> list[str]:
    """What the heatmaps do not split, for a model whose beat / record vectors carry a second part."""
    said = {"whole_beat_share": "the 12-lead whole-beat reading's share of each beat vector (weighted by beat "
                                "attention; the lead attention splits the rest)",
            "rhythm_summary_share": "the RR rate-and-regularity summary's share of the record vector (the beat "
                                    "attention splits the rest)"}
    lines = [f"- {said[k]}: median {v['median']:.0%} [IQR {v['q25']:.0%}-{v['q75']:.0%}] over {v['n']} records"
             for k, v in parts.items() if v and k in said]
    if not lines:
        return []
    return ["What the attention maps cover. This model's vectors also carry parts that no attention splits "
            "(their shares by projection, `Prediction.whole_beat_share` and `.rhythm_summary_share`); the lead "
            "importance below is how the leads' part was split:", "", *lines, ""]


def _reading(p: dict) -> list[str]:
    """Why the second claim can fail, and what the attention-attribution agreement says (measured values)."""
    r, m = p["groups"].get("rhythm"), p["groups"].get("morphology")
    if r is None or m is None:
        return []
    text = (f"Reading: Lead II is ranked {r['lead_ii_rank_of_group_mean']:.0f} for the rhythm labels and "
            f"{m['lead_ii_rank_of_group_mean']:.0f} for the morphology labels.")
    if p["claims"].get("lead_ii_ranked_higher_for_rhythm_than_morphology") is False:
        text += (" BEAT-Net's lead attention is computed per beat by one pooling query shared by every output, "
                 "before the labels are scored: it cannot differ between labels for the same record, and the "
                 "per-label maps above differ only because different records carry different labels.")
        if r["lead_ii_rank_of_group_mean"] <= CLAIM_TOP:
            text += (" What it shows is that the model reads every beat mostly through Lead II (as a clinician "
                     "reads the rhythm strip), not that it does so *for rhythm*: a label-specific reading would "
                     "need per-label queries or the attributions.")
    overall = np.mean([run["overall_mean_importance"] for run in p["per_run"]], axis=0)
    text += (f" Over all test records the most attended lead is {LEADS[int(np.argmax(overall))]} "
             f"({overall.max():.1%}) and the least {LEADS[int(np.argmin(overall))]} ({overall.min():.1%}), "
             "against 8.3 % for uniform attention.")
    whole = (p.get("parts") or {}).get("whole_beat_share")
    if whole and whole["median"] > 0.5:
        text += (f" This model's beat vectors are mostly its 12-lead whole-beat reading (median "
                 f"{whole['median']:.0%}), which no attention splits: the lead attention weighs the smaller "
                 "part, so a flat lead map here does not mean the leads did not matter (the attributions, "
                 "which cover both parts, say which did).")
    rho = [g["spearman"]["median"] for g in (r, m) if g.get("spearman") and g["spearman"].get("median") is not None]
    if rho and max(abs(v) for v in rho) < 0.3:
        text += (" The weak agreement between attention and attribution (median Spearman "
                 + " and ".join(f"{v:.2f}" for v in rho) + " for the two groups) says the same: which leads "
                 "are attended is not which leads change the prediction when removed.")
    return ["", text]
