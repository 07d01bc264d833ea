"""Plotly figure builders for the app: pure functions, data in, figure out.

The trace is drawn the way clinicians read it, on ECG paper, in *millimetres
of paper*: x = time x 25 mm/s, y = voltage x 10 mm/mV (plus each row's
baseline), with the y axis locked to the x axis at 1:1 so a millimetre is a
millimetre at any zoom. The grid is the axes' own grid: minor lines every 1 mm
(0.04 s, 0.1 mV), major lines every 5 mm (0.2 s, 0.5 mV). Every time on the
trace sits at its true position (a beat at 3.2 s is at x = 80 mm in every
row), so the beat windows and R markers line up in every lead.

Layouts:

- ``"3x4"``: the standard 12-lead sheet, 3 rows x 4 columns of 2.5 s
  (I II III | aVR aVL aVF | V1 V2 V3 | V4 V5 V6), plus a full-length rhythm strip
  of lead II underneath;
- ``"12x1"``: the 12 leads stacked, each over the whole record.

Nothing here touches Streamlit, so every figure can be tested without a browser.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import signal as sps

from beatnet_core import LEADS

# --------------------------------------------------------------------------- paper

MM_PER_S = 25.0            #: paper speed
MM_PER_MV = 10.0           #: gain
MINOR_MM = 1.0             #: small squares: 0.04 s x 0.1 mV
MAJOR_MM = 5.0             #: large squares: 0.2 s x 0.5 mV
ROW_PITCH_MM = {"3x4": 35.0, "12x1": 25.0}
#: The standard sheet: rows of (lead per column), 4 columns of a quarter of the record each.
LAYOUT_3X4 = (("I", "aVR", "V1", "V4"),
              ("II", "aVL", "V2", "V5"),
              ("III", "aVF", "V3", "V6"))
RHYTHM_LEAD = "II"
#: Display filter: the band the model sees too (see beatnet_core.signal), and a
#: common "muscle filter" setting of electrocardiographs.
DISPLAY_BAND_HZ = (0.5, 40.0)
DISPLAY_MAX_FS = 500.0

PAPER_BG = "#fffafa"
MINOR_COLOUR = "#f8d3d3"
MAJOR_COLOUR = "#ec9f9f"
TRACE_COLOUR = "#111111"
R_MARKER_COLOUR = "#1d4ed8"
WINDOW_COLOURS = ("rgba(59,130,246,0.13)", "rgba(16,185,129,0.13)")
ABSENT_COLOUR = "#9ca3af"
#: Calibration pulse, left of every row: 1 mV (10 mm) high, 0.2 s (5 mm) wide.
CAL_PULSE_X = np.array([-11.0, -9.0, -9.0, -4.0, -4.0, -2.0])
CAL_PULSE_Y = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0]) * MM_PER_MV
LEFT_MM = -13.0
PLOT_CONFIG = {"scrollZoom": True, "displaylogo": False,
               "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
               "toImageButtonOptions": {"format": "png", "scale": 2}}


def seconds_to_mm(t):
    return np.asarray(t, float) * MM_PER_S


def mv_to_mm(v):
    return np.asarray(v, float) * MM_PER_MV


def display_signal(ecg) -> tuple[np.ndarray, float]:
    """The signal as drawn: band-passed 0.5-40 Hz (zero phase), at most 500 Hz; masked leads NaN.

    Returns (samples, 12) float32 in the ECG's units and its rate.
    """
    x = np.asarray(ecg.signal, np.float64)
    fs = float(ecg.fs)
    mask = np.asarray(ecg.lead_mask, bool)
    if x.shape[0] > 3 * 8 * 2:  # sosfiltfilt needs a few samples of padding
        high = min(DISPLAY_BAND_HZ[1], 0.45 * fs)
        sos = sps.butter(2, [DISPLAY_BAND_HZ[0], high], btype="bandpass", fs=fs, output="sos")
        x = sps.sosfiltfilt(sos, x, axis=0)
    step = max(1, int(np.floor(fs / DISPLAY_MAX_FS)))
    if step > 1:
        x, fs = x[::step], fs / step
    x = x.astype(np.float32)
    x[:, ~mask] = np.nan
    return x, fs


def segments(layout: str, duration_s: float) -> list[dict]:
    """What is drawn where: one dict per (row, lead, time span).

    Keys: ``row`` (0 = top), ``lead``, ``t0``, ``t1`` (seconds), ``baseline``
    (mm), ``rhythm`` (True for the rhythm strip).
    """
    pitch = ROW_PITCH_MM[layout]
    out = []
    if layout == "3x4":
        col = duration_s / 4.0
        for r, row in enumerate(LAYOUT_3X4):
            for c, lead in enumerate(row):
                out.append(dict(row=r, lead=lead, t0=c * col, t1=(c + 1) * col, baseline=-r * pitch,
                                rhythm=False))
        out.append(dict(row=3, lead=RHYTHM_LEAD, t0=0.0, t1=duration_s, baseline=-3 * pitch, rhythm=True))
    elif layout == "12x1":
        for r, lead in enumerate(LEADS):
            out.append(dict(row=r, lead=lead, t0=0.0, t1=duration_s, baseline=-r * pitch, rhythm=False))
    else:
        raise ValueError(f"unknown layout {layout!r}; use '3x4' or '12x1'")
    return out


def n_rows(layout: str) -> int:
    return 4 if layout == "3x4" else 12


def _paper_axes(fig: go.Figure, x_range, y_range, *, row=None, col=None, minor=True) -> None:
    """ECG paper on one pair of axes: 1 mm / 5 mm grid, 1 mm = 1 mm on both axes."""
    grid = dict(showgrid=True, gridcolor=MAJOR_COLOUR, gridwidth=1, dtick=MAJOR_MM, tick0=0,
                zeroline=False, showticklabels=False, ticks="", showline=False)
    if minor:
        grid["minor"] = dict(dtick=MINOR_MM, tick0=0, showgrid=True, gridcolor=MINOR_COLOUR, gridwidth=0.5)
    kw = {} if row is None else dict(row=row, col=col)
    # "range": when the box's shape differs from the sheet's, plotly shows more paper
    # around it rather than white bands, and 1 mm stays 1 mm
    fig.update_xaxes(range=list(x_range), constrain="range", **grid, **kw)
    fig.update_yaxes(range=list(y_range), constrain="range", **grid, **kw)


def _lock_aspect(fig: go.Figure, xaxis="x", yaxis="y") -> None:
    fig.layout[yaxis.replace("y", "yaxis", 1)].update(scaleanchor=xaxis, scaleratio=1.0)


def ecg_figure(ecg, r_peaks=None, *, layout: str = "3x4", show_beats: bool = True,
               attribution: np.ndarray | None = None, attribution_fs: float | None = None,
               attribution_label: str | None = None, title: str | None = None,
               height: int | None = None) -> go.Figure:
    """The 12-lead trace on ECG paper.

    Parameters
    ----------
    ecg : beatnet_core.ECG
    r_peaks : array of int, optional
        R-peak sample indices (at ``ecg.fs``): R markers on the trace of every
        lead and a shaded, numbered window per beat (0.256 s before to 0.448 s
        after R: the heartbeat token the model reads), spanning every row.
    layout : "3x4" (standard sheet + lead II rhythm strip) or "12x1" (stacked).
    show_beats : draw the R markers and beat windows.
    attribution : (samples, 12) array, optional
        Per-sample evidence for a label (e.g. Integrated Gradients on the
        timeline), drawn as a colour band behind each lead: red = for, blue =
        against, scaled to the largest absolute value.
    attribution_fs : rate of ``attribution`` (Hz).
    """
    x, fs = display_signal(ecg)
    duration = x.shape[0] / fs
    segs = segments(layout, duration)
    pitch = ROW_PITCH_MM[layout]
    rows = n_rows(layout)
    fig = go.Figure()

    y_top = 0.5 * pitch + 4.0
    y_bottom = -(rows - 1) * pitch - 0.5 * pitch
    x_right = seconds_to_mm(duration) + 2.0

    if attribution is not None:
        fig.add_trace(_attribution_heatmap(attribution, attribution_fs or fs, segs, pitch, duration,
                                           attribution_label))

    # calibration pulses and column separators: one trace each
    cal_x, cal_y = [], []
    for r in range(rows):
        base = -r * pitch
        cal_x += list(CAL_PULSE_X) + [None]
        cal_y += list(CAL_PULSE_Y + base) + [None]
    fig.add_trace(go.Scatter(x=cal_x, y=cal_y, mode="lines", line=dict(color=TRACE_COLOUR, width=1.2),
                             hoverinfo="skip", showlegend=False, name="calibration 1 mV"))
    sep_x, sep_y = [], []
    for s in segs:
        if s["t0"] > 0 and not s["rhythm"]:
            xm = seconds_to_mm(s["t0"])
            sep_x += [xm, xm, None]
            sep_y += [s["baseline"] - 4, s["baseline"] + 4, None]
    if sep_x:
        fig.add_trace(go.Scatter(x=sep_x, y=sep_y, mode="lines", line=dict(color=TRACE_COLOUR, width=1.2),
                                 hoverinfo="skip", showlegend=False, name="column separator"))

    lead_index = {name: i for i, name in enumerate(LEADS)}
    annotations = []
    for s in segs:
        k = lead_index[s["lead"]]
        a = int(round(s["t0"] * fs))
        b = min(x.shape[0], int(round(s["t1"] * fs)) + 1)   # +1: columns join without a gap
        label_x = seconds_to_mm(s["t0"]) + (1.5 if s["t0"] > 0 else 0.5)
        annotations.append(dict(x=label_x, y=s["baseline"] + 0.36 * pitch, text=f"<b>{s['lead']}</b>",
                                showarrow=False, xanchor="left", yanchor="middle",
                                font=dict(size=12, color=TRACE_COLOUR)))
        if not ecg.lead_mask[k]:
            annotations.append(dict(x=seconds_to_mm((s["t0"] + s["t1"]) / 2), y=s["baseline"],
                                    text=f"lead {s['lead']} not available", showarrow=False,
                                    font=dict(size=11, color=ABSENT_COLOUR)))
            continue
        t = np.arange(a, b) / fs
        v = x[a:b, k]
        fig.add_trace(go.Scatter(
            x=seconds_to_mm(t), y=s["baseline"] + mv_to_mm(v), mode="lines",
            line=dict(color=TRACE_COLOUR, width=1.1), name=s["lead"] + (" rhythm" if s["rhythm"] else ""),
            customdata=np.stack([t, v], axis=1).astype(np.float32), showlegend=False,
            hovertemplate=f"<b>{s['lead']}</b> %{{customdata[0]:.2f}} s, %{{customdata[1]:.2f}} mV<extra></extra>"))

    shapes = []
    if show_beats and r_peaks is not None and len(r_peaks):
        r = np.asarray(r_peaks, np.int64)
        r = r[(r >= 0) & (r < ecg.n_samples)]
        t_r = r / float(ecg.fs)
        pre, post = _window_s()
        for n, tr in enumerate(t_r, start=1):
            shapes.append(dict(type="rect", xref="x", yref="y", layer="between",
                               x0=seconds_to_mm(tr - pre), x1=seconds_to_mm(tr + post),
                               y0=y_bottom, y1=0.5 * pitch, line=dict(width=0),
                               fillcolor=WINDOW_COLOURS[n % 2]))
            annotations.append(dict(x=seconds_to_mm(tr), y=0.5 * pitch + 0.5, text=str(n), showarrow=False,
                                    yanchor="bottom", font=dict(size=10, color=R_MARKER_COLOUR)))
        mx, my, mt = [], [], []
        for s in segs:
            k = lead_index[s["lead"]]
            if not ecg.lead_mask[k]:
                continue
            inside = np.flatnonzero((t_r >= s["t0"]) & (t_r < s["t1"] if not s["rhythm"] else t_r <= s["t1"]))
            idx = np.clip(np.round(t_r[inside] * fs).astype(int), 0, x.shape[0] - 1)
            mx += list(seconds_to_mm(t_r[inside]))
            my += list(s["baseline"] + mv_to_mm(x[idx, k]))
            mt += [f"beat {i + 1} ({s['lead']}) at {t_r[i]:.2f} s" for i in inside]
        fig.add_trace(go.Scatter(x=mx, y=my, mode="markers", name="R peaks", text=mt,
                                 marker=dict(color=R_MARKER_COLOUR, size=5, symbol="circle"),
                                 hovertemplate="%{text}<extra></extra>", showlegend=False))

    annotations.append(dict(x=LEFT_MM + 1, y=y_bottom + 1.5, xanchor="left", yanchor="bottom", showarrow=False,
                            text="25 mm/s · 10 mm/mV · 0.5–40 Hz", font=dict(size=10, color="#6b7280")))
    units = ecg.meta.get("units", "mV") if isinstance(getattr(ecg, "meta", None), dict) else "mV"
    if str(units).lower() not in ("mv", "millivolt", "millivolts"):
        annotations.append(dict(x=x_right - 1, y=y_bottom + 1.5, xanchor="right", yanchor="bottom",
                                showarrow=False, text=f"amplitude in {units}: 10 mm per unit",
                                font=dict(size=10, color="#b45309")))

    fig.update_layout(shapes=shapes, annotations=annotations, plot_bgcolor=PAPER_BG, paper_bgcolor="white",
                      margin=dict(l=4, r=4, t=30 if title else 6, b=4), dragmode="pan", hovermode="closest",
                      title=dict(text=title, x=0.01, font=dict(size=14)) if title else None,
                      height=height or default_height(layout), showlegend=False)
    _paper_axes(fig, (LEFT_MM, x_right), (y_bottom, y_top))
    _lock_aspect(fig)
    fig.layout.meta = {"layout": layout, "mm_per_s": MM_PER_S, "mm_per_mv": MM_PER_MV, "pitch_mm": pitch,
                       "fs_display": fs}
    return fig


#: Pixels per mm the default figure height assumes: a ~950 px wide chart
#: (a 1400 px browser window with the sidebar open) shows the 264 mm sheet whole.
PX_PER_MM = 3.6


def default_height(layout: str) -> int:
    """Pixel height that shows the whole sheet in a ~950 px wide chart."""
    pitch = ROW_PITCH_MM[layout]
    return int(round((n_rows(layout) * pitch + 4.0) * PX_PER_MM)) + 10


def _window_s() -> tuple[float, float]:
    from beatnet_core.tokenizer import POST_R_S, PRE_R_S  # the token window, one definition
    return PRE_R_S, POST_R_S


def _attribution_heatmap(attribution, fs_a, segs, pitch, duration, label) -> go.Heatmap:
    """One heatmap behind the trace: per row, 1 mm (0.04 s) bins of the lead drawn there."""
    a = np.nan_to_num(np.asarray(attribution, np.float64))
    lead_index = {name: i for i, name in enumerate(LEADS)}
    n_bins = int(np.ceil(seconds_to_mm(duration) / MINOR_MM))
    centres = (np.arange(n_bins) + 0.5) * MINOR_MM
    bin_of_sample = np.minimum((np.arange(a.shape[0]) / fs_a * MM_PER_S / MINOR_MM).astype(int), n_bins - 1)
    per_lead = np.zeros((n_bins, a.shape[1]))
    np.add.at(per_lead, bin_of_sample, a)
    rows = sorted({s["row"] for s in segs})
    z = np.zeros((len(rows), n_bins))
    t_mid = centres / MM_PER_S
    for s in segs:
        inside = (t_mid >= s["t0"]) & (t_mid < s["t1"] + 1e-9)
        z[s["row"], inside] = per_lead[inside, lead_index[s["lead"]]]
    scale = np.percentile(np.abs(z[z != 0]), 99.5) if np.any(z != 0) else 1.0
    z = np.clip(z / max(scale, 1e-12), -1, 1)
    baselines = np.array([-r * pitch for r in rows])
    order = np.argsort(baselines)                        # heatmap rows bottom to top
    return go.Heatmap(
        x=centres, y=baselines[order], z=z[order], zmin=-1, zmax=1, zmid=0,
        # the weakest fifth of the scale either side of 0 stays transparent: the paper shows through
        colorscale=[[0.0, "rgba(37,99,235,0.8)"], [0.4, "rgba(37,99,235,0)"], [0.6, "rgba(220,38,38,0)"],
                    [1.0, "rgba(220,38,38,0.8)"]],
        showscale=True, hoverinfo="skip", name="attribution",
        colorbar=dict(title=dict(text=f"evidence{' for ' + label if label else ''}", side="right"),
                      tickvals=[-1, 0, 1], ticktext=["against", "0", "for"], len=0.6, thickness=12),
    )


# --------------------------------------------------------------------------- diagnosis

def probability_figure(probabilities: dict, thresholds: dict, descriptions: dict | None = None,
                       top: int | None = None, height: int | None = None) -> go.Figure:
    """Horizontal probability bars, highest first; each label's decision threshold as a black tick.

    Bars of labels at or over their threshold are dark blue, the others grey.
    """
    descriptions = descriptions or {}
    items = sorted(probabilities.items(), key=lambda kv: -kv[1])
    if top:
        items = items[:top]
    codes = [k for k, _ in items][::-1]
    probs = np.array([probabilities[c] for c in codes], float)
    thr = np.array([thresholds.get(c, 0.5) for c in codes], float)
    over = probs >= thr
    names = [f"{c} · {_short(descriptions.get(c, ''))}" if descriptions.get(c) else c for c in codes]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=probs, y=names, orientation="h", name="probability",
                         marker=dict(color=np.where(over, "#1e40af", "#cbd5e1")),
                         text=[f"{p:.0%}" for p in probs], textposition="outside", cliponaxis=False,
                         customdata=np.stack([thr, [descriptions.get(c, c) for c in codes]], axis=1),
                         hovertemplate="%{customdata[1]}<br>probability %{x:.2f}, "
                                       "threshold %{customdata[0]}<extra></extra>"))
    fig.add_trace(go.Scatter(x=thr, y=names, mode="markers", name="decision threshold",
                             marker=dict(symbol="line-ns", size=22, line=dict(width=2.5, color="#111827")),
                             hovertemplate="threshold %{x:.2f}<extra></extra>"))
    fig.update_layout(height=height or max(140, 26 * len(codes) + 40), margin=dict(l=4, r=40, t=8, b=30),
                      xaxis=dict(range=[0, 1.08], tickformat=".0%", title=None, dtick=0.25),
                      yaxis=dict(automargin=True), bargap=0.3, showlegend=False, plot_bgcolor="white")
    fig.layout.meta = {"codes": codes}
    return fig


def _short(text: str, n: int = 38) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- attention

def lead_attention_heatmap(lead_attention: np.ndarray, lead_mask=None, title: str | None = None,
                           height: int = 330) -> go.Figure:
    """Heatmap leads (rows, I at top) x beats (columns, numbered from 1): z has shape (12, beats)."""
    att = np.asarray(lead_attention, float)            # (beats, 12)
    z = att.T.copy()                                    # (12, beats)
    if lead_mask is not None:
        z[~np.asarray(lead_mask, bool), :] = np.nan
    beats = np.arange(1, att.shape[0] + 1)
    fig = go.Figure(go.Heatmap(z=z, x=beats, y=list(LEADS), colorscale="Blues", zmin=0, zmax=_zmax(z),
                               colorbar=dict(title=dict(text="weight"), thickness=12),
                               hovertemplate="beat %{x}, lead %{y}: %{z:.2f}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=30 if title else 6, b=36),
                      title=dict(text=title, x=0.01, font=dict(size=14)) if title else None,
                      xaxis=dict(title="beat", dtick=1), yaxis=dict(autorange="reversed", title=None, automargin=True),
                      plot_bgcolor="white")
    return fig


def _zmax(z: np.ndarray) -> float:
    """Colour scale top of a lead-attention map: its maximum, but at least twice the uniform weight,
    so an even spread over the leads reads as light, not as saturated."""
    usable = int(np.isfinite(z).any(axis=1).sum()) if z.ndim == 2 else 12
    top = float(np.nanmax(z)) if np.isfinite(z).any() else 0.0
    return max(top, 2.0 / max(1, usable))


def attention_figure(ecg, r_peaks, lead_attention, beat_attention, *, height: int | None = None) -> go.Figure:
    """Rhythm strip on paper, beat attention under it and lead attention under that, aligned in time.

    Three panels sharing the time axis (mm of paper): (1) the rhythm lead with
    numbered beat windows, (2) beat attention as one bar per beat at its R
    peak, (3) lead attention, leads x beats, each beat's column centred on its
    R peak. Zooming or panning one panel moves all three.
    """
    x, fs = display_signal(ecg)
    duration = x.shape[0] / fs
    r = np.asarray(r_peaks, np.int64)
    t_r = r / float(ecg.fs)
    att_b = np.asarray(beat_attention, float)[: len(r)]
    att_l = np.asarray(lead_attention, float)[: len(r)]
    pre, post = _window_s()
    pitch = ROW_PITCH_MM["3x4"]
    # The strip's panel is about as tall as its paper needs at ~1100 px wide; wider, the time axis
    # (shared by all three panels) shows a little more paper; narrower, more paper above and below.
    # Never a misalignment:
    # so plotly fits the 1:1 aspect by showing more paper above and below
    # (y range), never by changing the time axis the three panels share.
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.27, 0.2, 0.53],
                        subplot_titles=(f"Rhythm strip (lead {RHYTHM_LEAD})", "Beat attention: which beats the "
                                        "rhythm encoder pooled", "Lead attention: which leads each beat drew on"))
    k = LEADS.index(RHYTHM_LEAD)
    if not ecg.lead_mask[k]:
        k = int(np.flatnonzero(ecg.lead_mask)[0])
    t = np.arange(x.shape[0]) / fs
    fig.add_trace(go.Scatter(x=seconds_to_mm(t), y=mv_to_mm(x[:, k]), mode="lines", line=dict(color=TRACE_COLOUR, width=1.1),
                             customdata=np.stack([t, x[:, k]], 1).astype(np.float32), name=LEADS[k],
                             hovertemplate=f"<b>{LEADS[k]}</b> %{{customdata[0]:.2f}} s, %{{customdata[1]:.2f}} mV<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=list(CAL_PULSE_X), y=list(CAL_PULSE_Y), mode="lines", hoverinfo="skip",
                             line=dict(color=TRACE_COLOUR, width=1.2)), row=1, col=1)
    idx = np.clip(np.round(t_r * fs).astype(int), 0, x.shape[0] - 1)
    fig.add_trace(go.Scatter(x=seconds_to_mm(t_r), y=mv_to_mm(x[idx, k]), mode="markers",
                             marker=dict(color=R_MARKER_COLOUR, size=5), name="R peaks",
                             text=[f"beat {i + 1} at {tt:.2f} s" for i, tt in enumerate(t_r)],
                             hovertemplate="%{text}<extra></extra>"), row=1, col=1)
    rr = np.diff(t_r)
    width = seconds_to_mm(min(0.3, 0.8 * float(rr.min())) if rr.size else 0.3)
    fig.add_trace(go.Bar(x=seconds_to_mm(t_r), y=att_b, width=width, name="beat attention",
                         marker=dict(color="#1e40af"), text=[str(i + 1) for i in range(len(t_r))],
                         textposition="outside", cliponaxis=False,
                         hovertemplate="beat %{text}: %{y:.3f}<extra></extra>"), row=2, col=1)
    z = att_l.T.copy()
    z[~np.asarray(ecg.lead_mask, bool), :] = np.nan
    fig.add_trace(go.Heatmap(z=z, x=seconds_to_mm(t_r), y=list(LEADS), colorscale="Blues", zmin=0, zmax=_zmax(z),
                             customdata=np.tile(np.arange(1, len(t_r) + 1), (12, 1)),
                             colorbar=dict(title=dict(text="lead weight"), thickness=12, len=0.35, y=0.17),
                             hovertemplate="beat %{customdata}, lead %{y}: %{z:.2f}<extra></extra>"), row=3, col=1)
    shapes = []
    for n, tr in enumerate(t_r, start=1):
        shapes.append(dict(type="rect", xref="x", yref="y", layer="between", x0=seconds_to_mm(tr - pre),
                           x1=seconds_to_mm(tr + post), y0=-0.5 * pitch, y1=0.5 * pitch, line=dict(width=0),
                           fillcolor=WINDOW_COLOURS[n % 2]))
    x_range = (LEFT_MM, seconds_to_mm(duration) + 2)
    _paper_axes(fig, x_range, (-0.5 * pitch, 0.5 * pitch), row=1, col=1)
    fig.update_xaxes(range=list(x_range), row=2, col=1, showgrid=False, showticklabels=False)
    seconds = np.arange(0, np.floor(duration) + 1)
    fig.update_xaxes(range=list(x_range), row=3, col=1, tickvals=seconds_to_mm(seconds),
                     ticktext=[f"{s:g} s" for s in seconds], showgrid=False)
    fig.update_yaxes(row=2, col=1, rangemode="tozero", title=None, showgrid=True, gridcolor="#e5e7eb",
                     range=[0, max(0.05, float(np.nanmax(att_b)) * 1.3 if att_b.size else 1)])
    fig.update_yaxes(row=3, col=1, autorange="reversed", automargin=True)
    fig.update_yaxes(row=2, col=1, automargin=True, nticks=3)
    fig.update_layout(shapes=shapes, showlegend=False, height=height or 640, margin=dict(l=40, r=4, t=30, b=30),
                      plot_bgcolor="white", dragmode="pan")
    fig.layout.yaxis.update(scaleanchor="x", scaleratio=1.0)
    fig.layout.meta = {"beats": int(len(t_r))}
    for ann in fig.layout.annotations:     # subplot titles: left-aligned, small
        ann.update(x=0.0, xanchor="left", font=dict(size=13))
    return fig


def lead_comparison_figure(attention: np.ndarray, attribution: np.ndarray, lead_mask=None,
                           label: str = "", height: int = 300) -> go.Figure:
    """Per lead, side by side: share of lead attention, and the label's lead-ablation evidence."""
    mask = np.ones(12, bool) if lead_mask is None else np.asarray(lead_mask, bool)
    att = np.where(mask, np.asarray(attention, float), np.nan)
    abl = np.where(mask, np.asarray(attribution, float), np.nan)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("Attention: share of each lead (all labels)",
                                        f"Attribution: evidence for {label} if the lead is hidden"))
    fig.add_trace(go.Bar(x=list(LEADS), y=att, marker_color="#1e40af", name="attention",
                         hovertemplate="%{x}: %{y:.2f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=list(LEADS), y=abl, marker_color=np.where(np.nan_to_num(abl) >= 0, "#dc2626", "#2563eb"),
                         name="lead ablation", hovertemplate="%{x}: %{y:+.3f} log-odds<extra></extra>"),
                  row=1, col=2)
    fig.update_yaxes(title_text="share", row=1, col=1)
    return _style_comparison(fig, height)


def _style_comparison(fig: go.Figure, height: int) -> go.Figure:
    """Shared look of the attention-vs-attribution pairs: log-odds axis on the right panel."""
    fig.update_yaxes(title_text="Δ log-odds", row=1, col=2, zeroline=True, zerolinecolor="#111827")
    fig.update_yaxes(automargin=True)
    fig.update_layout(height=height, showlegend=False, margin=dict(l=50, r=4, t=40, b=30), plot_bgcolor="white")
    for ann in fig.layout.annotations:
        ann.update(font=dict(size=13))
    return fig


def beat_comparison_figure(beat_attention: np.ndarray, beat_attribution: np.ndarray, label: str = "",
                           height: int = 280) -> go.Figure:
    """Per beat, side by side: beat attention, and the label's beat-ablation evidence."""
    att = np.asarray(beat_attention, float)
    abl = np.asarray(beat_attribution, float)
    beats = np.arange(1, len(abl) + 1)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("Attention: weight of each beat (all labels)",
                                        f"Attribution: evidence for {label} if the beat is hidden"))
    fig.add_trace(go.Bar(x=beats, y=att[: len(beats)], marker_color="#1e40af",
                         hovertemplate="beat %{x}: %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=beats, y=abl, marker_color=np.where(abl >= 0, "#dc2626", "#2563eb"),
                         hovertemplate="beat %{x}: %{y:+.3f} log-odds<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="beat", dtick=1)
    fig.update_yaxes(title_text="weight", row=1, col=1)
    return _style_comparison(fig, height)


# --------------------------------------------------------------------------- gallery

def gallery_figure(items: list[dict], cols: int = 4, seconds: float = 3.0, height: int | None = None) -> go.Figure:
    """Thumbnails of the sample gallery: the first ``seconds`` of lead II of each record, on paper.

    ``items``: dicts with ``title`` and ``ecg``. Same scale everywhere (25 mm/s, 10 mm/mV) so rates and
    voltages can be compared at a glance.
    """
    rows = max(1, int(np.ceil(len(items) / cols)))
    titles = [_short(it["title"], 44) for it in items]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.02,
                        vertical_spacing=0.09 if rows > 1 else 0.0)
    w = seconds_to_mm(seconds)
    for i, it in enumerate(items):
        r, c = i // cols + 1, i % cols + 1
        x, fs = display_signal(it["ecg"])
        k = LEADS.index(RHYTHM_LEAD) if it["ecg"].lead_mask[LEADS.index(RHYTHM_LEAD)] else \
            int(np.flatnonzero(it["ecg"].lead_mask)[0])
        n = min(x.shape[0], int(seconds * fs))
        t = np.arange(n) / fs
        fig.add_trace(go.Scatter(x=seconds_to_mm(t), y=mv_to_mm(x[:n, k]), mode="lines", hoverinfo="skip",
                                 line=dict(color=TRACE_COLOUR, width=1), name=it["title"]), row=r, col=c)
        grid = dict(showgrid=True, gridcolor=MINOR_COLOUR, dtick=MAJOR_MM, tick0=0, zeroline=False,
                    showticklabels=False, ticks="", fixedrange=True)
        fig.update_xaxes(range=[0, w], **grid, row=r, col=c)
        fig.update_yaxes(range=[-12, 18], **grid, row=r, col=c)
    for ann in fig.layout.annotations:
        ann.update(font=dict(size=11))
    fig.update_layout(height=height or 125 * rows + 20, margin=dict(l=2, r=2, t=22, b=2), showlegend=False,
                      plot_bgcolor=PAPER_BG, paper_bgcolor="white")
    return fig


# --------------------------------------------------------------------------- about

def pipeline_figure(height: int = 300) -> go.Figure:
    """How BEAT-Net reads an ECG, in five boxes, with a sketch of what flows between them."""
    steps = [
        ("12-lead ECG", "10 s, 12 views of\none heart", "#f3f4f6"),
        ("Find the beats", "QRS detector cuts\none window per beat", "#e0f2fe"),
        ("Read each beat", "small CNNs read each\nlead and all 12 at once", "#dbeafe"),
        ("Compare the leads", "lead attention weighs\nthe 12 views of a beat", "#ede9fe"),
        ("Follow the rhythm", "beat attention reads\nthe beats in time (RR)", "#fce7f3"),
        ("Diagnoses", "one probability per\nlabel vs. its threshold", "#dcfce7"),
    ]
    fig = go.Figure()
    w, gap = 15.0, 4.0
    shapes, annotations = [], []
    for i, (head, body, colour) in enumerate(steps):
        x0 = i * (w + gap)
        shapes.append(dict(type="rect", x0=x0, x1=x0 + w, y0=0, y1=10, fillcolor=colour,
                           line=dict(color="#6b7280", width=1), layer="below"))
        annotations.append(dict(x=x0 + w / 2, y=7.6, text=f"<b>{head}</b>", showarrow=False, font=dict(size=13)))
        annotations.append(dict(x=x0 + w / 2, y=3.6, text=body.replace("\n", "<br>"), showarrow=False,
                                font=dict(size=11, color="#374151")))
        if i:
            annotations.append(dict(x=x0 - 0.3, y=5, ax=x0 - gap + 0.3, ay=5, xref="x", yref="y", axref="x",
                                    ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.5,
                                    arrowcolor="#374151", text=""))
    # a tiny beat sketch inside "Find the beats"
    t = np.linspace(0, 1, 80)
    beat = (0.15 * np.exp(-((t - 0.2) / 0.04) ** 2) + 1.0 * np.exp(-((t - 0.4) / 0.015) ** 2)
            - 0.2 * np.exp(-((t - 0.43) / 0.015) ** 2) + 0.3 * np.exp(-((t - 0.7) / 0.07) ** 2))
    for j in range(3):
        fig.add_trace(go.Scatter(x=w + gap + 1.5 + j * 4 + t * 4, y=-4.2 + beat * 2.6, mode="lines",
                                 line=dict(color="#111827", width=1.2), hoverinfo="skip"))
        shapes.append(dict(type="rect", x0=w + gap + 1.5 + j * 4, x1=w + gap + 1.5 + j * 4 + 3.8, y0=-4.6,
                           y1=-0.9, fillcolor=WINDOW_COLOURS[j % 2], line=dict(width=0)))
    annotations.append(dict(x=(w + gap) + w / 2, y=-5.6, text="beat tokens", showarrow=False,
                            font=dict(size=10, color="#6b7280")))
    fig.update_layout(shapes=shapes, annotations=annotations, height=height, showlegend=False,
                      margin=dict(l=4, r=4, t=4, b=4), plot_bgcolor="white",
                      xaxis=dict(visible=False, range=[-1, len(steps) * (w + gap)]),
                      yaxis=dict(visible=False, range=[-7, 11]))
    return fig
