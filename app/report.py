"""The downloadable report: one A4 landscape page (PNG or PDF) drawn with matplotlib.

matplotlib, not plotly + kaleido: kaleido needs a browser to export static
images, matplotlib needs nothing and is already a dependency. The trace is
printed at true scale on A4 (25 mm/s, 10 mm/mV, 1 mm / 5 mm grid) when the
PDF is printed at 100 %.
"""
from __future__ import annotations

import datetime as _dt
import io

import numpy as np

from app import figures
from app.measurements import as_rows

A4_LANDSCAPE_MM = (297.0, 210.0)
MM_PER_INCH = 25.4
REPORT_PITCH_MM = 28.0     # row spacing of the printed sheet (tighter than on screen)


def _paper(ax, x0, x1, y0, y1):
    """ECG paper grid on ``ax`` in mm: minor 1 mm, major 5 mm."""
    from matplotlib.collections import LineCollection

    def lines(step, colour, width):
        xs = np.arange(np.ceil(x0 / step) * step, x1 + 1e-9, step)
        ys = np.arange(np.ceil(y0 / step) * step, y1 + 1e-9, step)
        segs = [[(x, y0), (x, y1)] for x in xs] + [[(x0, y), (x1, y)] for y in ys]
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=width, zorder=0))

    lines(figures.MINOR_MM, figures.MINOR_COLOUR, 0.25)
    lines(figures.MAJOR_MM, figures.MAJOR_COLOUR, 0.5)
    ax.set_facecolor(figures.PAPER_BG)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _trace(ax, analysis, pitch=REPORT_PITCH_MM):
    ecg = analysis.ecg
    x, fs = figures.display_signal(ecg)
    duration = x.shape[0] / fs
    segs = figures.segments("3x4", duration)
    for s in segs:
        s["baseline"] = -s["row"] * pitch
    x_right = figures.seconds_to_mm(duration) + 2
    y0, y1 = -3.5 * pitch, 0.5 * pitch + 3
    _paper(ax, figures.LEFT_MM, x_right, y0, y1)
    pre, post = figures._window_s()
    t_r = analysis.r_peaks / float(ecg.fs)
    for n, tr in enumerate(t_r, start=1):
        ax.axvspan(figures.seconds_to_mm(tr - pre), figures.seconds_to_mm(tr + post), ymin=0, ymax=1,
                   color=("#3b82f6" if n % 2 else "#10b981"), alpha=0.10, lw=0, zorder=1)
        ax.text(figures.seconds_to_mm(tr), y1 - 0.5, str(n), ha="center", va="top", fontsize=5, color="#1d4ed8")
    leads = list(figures.LEADS)
    for r in range(4):
        ax.plot(figures.CAL_PULSE_X, figures.CAL_PULSE_Y - r * pitch, color="k", lw=0.6, zorder=3)
    for s in segs:
        k = leads.index(s["lead"])
        a, b = int(round(s["t0"] * fs)), min(x.shape[0], int(round(s["t1"] * fs)) + 1)
        ax.text(figures.seconds_to_mm(s["t0"]) + 1, s["baseline"] + 0.36 * pitch, s["lead"], fontsize=6,
                fontweight="bold", va="center", zorder=4)
        if not ecg.lead_mask[k]:
            ax.text(figures.seconds_to_mm((s["t0"] + s["t1"]) / 2), s["baseline"], "not available", fontsize=5,
                    color="#6b7280", ha="center", zorder=4)
            continue
        t = np.arange(a, b) / fs
        ax.plot(figures.seconds_to_mm(t), s["baseline"] + figures.mv_to_mm(x[a:b, k]), color="k", lw=0.45,
                zorder=3)
        if s["t0"] > 0 and not s["rhythm"]:
            xm = figures.seconds_to_mm(s["t0"])
            ax.plot([xm, xm], [s["baseline"] - 3, s["baseline"] + 3], color="k", lw=0.6, zorder=3)
    ax.text(figures.LEFT_MM + 1, y0 + 1, "25 mm/s · 10 mm/mV · 0.5–40 Hz", fontsize=5, color="#4b5563")
    return x_right - figures.LEFT_MM, y1 - y0


def render(analysis, fmt: str = "png", dpi: int = 160) -> bytes:
    """The report of ``analysis`` as PNG or PDF bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    w_mm, h_mm = A4_LANDSCAPE_MM
    fig = Figure(figsize=(w_mm / MM_PER_INCH, h_mm / MM_PER_INCH))
    margin = 10.0
    # trace axes at true scale: its size in mm equals its data range in mm
    pitch = REPORT_PITCH_MM
    trace_w = figures.seconds_to_mm(analysis.ecg.duration_s) + 2 - figures.LEFT_MM
    trace_h = 4 * pitch + 3
    scale = min(1.0, (w_mm - 2 * margin) / trace_w)
    top = 18.0
    ax = fig.add_axes([margin / w_mm, 1 - (top + trace_h * scale) / h_mm, trace_w * scale / w_mm,
                       trace_h * scale / h_mm])
    _trace(ax, analysis, pitch)

    pred = analysis.prediction
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    fig.text(margin / w_mm, 1 - 7 / h_mm, f"BEAT-Net report · {analysis.name}", fontsize=12, fontweight="bold")
    sub = (f"{analysis.ecg.duration_s:.1f} s shown of {analysis.duration_s:.1f} s at {analysis.ecg.fs:g} Hz · "
           f"{analysis.n_beats} beats · {when} · not a medical device: for education and research only"
           + (f" (×{scale:.2f} scale)" if scale < 0.999 else " (true scale when printed at 100 %)"))
    fig.text(margin / w_mm, 1 - 12.5 / h_mm, sub, fontsize=7, color="#374151")

    bottom_top = top + trace_h * scale + 4
    box_h = h_mm - bottom_top - 6
    # diagnosis
    ax_d = fig.add_axes([margin / w_mm, 6 / h_mm, 95 / w_mm, box_h / h_mm])
    ax_d.axis("off")
    lines = [("Model diagnosis", "bold")]
    if pred is None:
        lines.append((analysis.model_error or "no model prediction", "normal"))
    else:
        items = sorted(pred.probabilities.items(), key=lambda kv: -kv[1])[:7]
        for code, p in items:
            mark = "●" if code in pred.labels else "○"
            desc = pred.descriptions.get(code, "")
            lines.append((f"{mark} {code} {p:.0%} (threshold {pred.thresholds.get(code, 0.5):.2f}) {desc[:34]}",
                          "bold" if code in pred.labels else "normal"))
    if analysis.reference:
        lines.append(("Reference: " + "; ".join(analysis.reference)[:120], "normal"))
    for i, (text, weight) in enumerate(lines):
        ax_d.text(0, 1 - i * 0.125, text, fontsize=6.5, fontweight=weight, va="top", transform=ax_d.transAxes)

    # measurements
    ax_m = fig.add_axes([(margin + 100) / w_mm, 6 / h_mm, 80 / w_mm, box_h / h_mm])
    ax_m.axis("off")
    ax_m.text(0, 1, "Measurements", fontsize=6.5, fontweight="bold", va="top", transform=ax_m.transAxes)
    for i, row in enumerate(as_rows(analysis.measurements), start=1):
        ax_m.text(0, 1 - i * 0.125, f"{row['measurement']}: {row['value']}  ({row['normal range']})  {row['flag']}",
                  fontsize=6.2, va="top", transform=ax_m.transAxes)

    # lead attention heatmap
    if pred is not None and getattr(pred, "lead_attention", None) is not None:
        ax_h = fig.add_axes([(margin + 192) / w_mm, 9 / h_mm, 80 / w_mm, (box_h - 6) / h_mm])
        att = np.asarray(pred.lead_attention, float)[: analysis.n_beats].T
        att = np.where(np.asarray(analysis.ecg.lead_mask, bool)[:, None], att, np.nan)
        usable = max(1, int(np.asarray(analysis.ecg.lead_mask, bool).sum()))
        vmax = max(float(np.nanmax(att)) if np.isfinite(att).any() else 0.0, 2.0 / usable)
        ax_h.imshow(att, aspect="auto", cmap="Blues", vmin=0, vmax=vmax, interpolation="nearest")
        ax_h.set_yticks(range(12))
        ax_h.set_yticklabels(figures.LEADS, fontsize=5)
        ax_h.set_xticks(range(att.shape[1]))
        ax_h.set_xticklabels([str(i + 1) for i in range(att.shape[1])], fontsize=5)
        ax_h.set_xlabel("beat", fontsize=5.5, labelpad=1)
        ax_h.set_title("Lead attention (leads × beats)", fontsize=6.5, fontweight="bold", loc="left")
        ax_h.tick_params(length=1.5, pad=1)

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi if fmt == "png" else None, facecolor="white")
    return buf.getvalue()
