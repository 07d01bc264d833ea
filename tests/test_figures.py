"""The app's plotly figure builders: ECG paper geometry, beat markers, heatmaps (no browser needed)."""
from __future__ import annotations

import numpy as np
import pytest

from _app_helpers import SAMPLES  # noqa: F401  (puts the project root on sys.path)
from app import figures as F
from beatnet_core import LEADS, detect_qrs, load_ecg
from beatnet_core.tokenizer import POST_R_S, PRE_R_S


@pytest.fixture(scope="module")
def record():
    ecg = load_ecg(SAMPLES / "00009_hr.hea")
    return ecg, detect_qrs(ecg)


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_paper_grid_is_1mm_and_5mm_and_square(record):
    fig = F.ecg_figure(*record)
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.showgrid and axis.dtick == 5 and axis.tick0 == 0          # major: 5 mm
        assert axis.minor.showgrid and axis.minor.dtick == 1                   # minor: 1 mm
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1  # 1 mm is 1 mm both ways


def test_25_mm_per_s_and_10_mm_per_mv(record):
    ecg, r = record
    fig = F.ecg_figure(ecg, r)
    x, fs = F.display_signal(ecg)
    strip = _trace(fig, "II rhythm")            # the full-length lead II strip, bottom row
    base = F.segments("3x4", x.shape[0] / fs)[-1]["baseline"]
    i = 1234
    assert strip.x[i] == pytest.approx(i / fs * 25.0)                                 # 25 mm/s
    assert strip.y[i] == pytest.approx(base + 10.0 * x[i, LEADS.index("II")], abs=1e-4)  # 10 mm/mV
    assert strip.x[-1] == pytest.approx(250.0, abs=0.1)                               # 10 s = 250 mm
    # the calibration pulse: 1 mV = 10 mm high, 0.2 s = 5 mm wide
    cal = _trace(fig, "calibration 1 mV")
    ys = np.array([v for v in cal.y[:6]], float)
    xs = np.array([v for v in cal.x[:6]], float)
    assert ys.max() - ys.min() == pytest.approx(10.0)
    top = xs[ys == ys.max()]
    assert top.max() - top.min() == pytest.approx(5.0)


def test_standard_3x4_layout_and_stacked_12x1(record):
    ecg, r = record
    fig = F.ecg_figure(ecg, r)
    leads = [t.name for t in fig.data if t.name in LEADS]
    assert leads == ["I", "aVR", "V1", "V4", "II", "aVL", "V2", "V5", "III", "aVF", "V3", "V6"]
    v1 = _trace(fig, "V1")
    assert v1.x[0] == pytest.approx(125.0) and v1.x[-1] == pytest.approx(187.5, abs=0.1)  # third column: 5-7.5 s
    stacked = F.ecg_figure(ecg, r, layout="12x1")
    assert [t.name for t in stacked.data if t.name in LEADS] == list(LEADS)
    assert all(_trace(stacked, n).x[-1] == pytest.approx(250.0, abs=0.1) for n in LEADS)


def test_r_markers_and_windows_at_the_detected_beats_in_every_lead(record):
    ecg, r = record
    fig = F.ecg_figure(ecg, r)
    t_r = r / ecg.fs
    markers = np.array(_trace(fig, "R peaks").x, float)
    # each beat once per row: 3 rows of the sheet (one column each) + the rhythm strip
    assert markers.size == 4 * r.size
    assert np.allclose(np.sort(markers), np.sort(np.tile(t_r * 25.0, 4)))
    windows = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(windows) == r.size
    for s, t in zip(windows, t_r):
        assert s.x0 == pytest.approx((t - PRE_R_S) * 25.0) and s.x1 == pytest.approx((t + POST_R_S) * 25.0)
        assert s.y0 <= min(fig.data[-1].y) and s.y1 >= max(fig.data[-1].y)   # spans every row
    numbers = [a.text for a in fig.layout.annotations if a.text.isdigit()]
    assert numbers == [str(i) for i in range(1, r.size + 1)]
    assert not [s for s in F.ecg_figure(ecg, r, show_beats=False).layout.shapes if s.type == "rect"]


def test_masked_lead_is_marked_not_drawn(record):
    ecg, r = record
    masked = ecg.window(0, ecg.duration_s)
    masked.lead_mask = masked.lead_mask.copy()
    masked.lead_mask[LEADS.index("V2")] = False
    fig = F.ecg_figure(masked, r)
    assert "V2" not in [t.name for t in fig.data]
    assert any("V2 not available" in a.text for a in fig.layout.annotations)


def test_attribution_overlay_is_drawn_behind_the_lead_it_belongs_to(record):
    ecg, r = record
    fs_a = 250.0
    attr = np.zeros((int(ecg.duration_s * fs_a), 12), np.float32)
    attr[int(6.0 * fs_a), LEADS.index("V2")] = 1.0      # V2 is row 1, column 2 (5-7.5 s)
    attr[int(1.0 * fs_a), LEADS.index("III")] = -1.0    # III is row 2, column 0
    fig = F.ecg_figure(ecg, r, attribution=attr, attribution_fs=fs_a, attribution_label="X")
    hm = next(t for t in fig.data if t.type == "heatmap")
    z = np.asarray(hm.z, float)
    y = np.asarray(hm.y, float)
    pitch = F.ROW_PITCH_MM["3x4"]
    row = {int(round(-v / pitch)): i for i, v in enumerate(y)}
    assert z.shape == (4, 250)                                     # 4 rows x 1 mm bins over 250 mm
    assert z[row[1], 150] == pytest.approx(1.0) and z[row[2], 25] == pytest.approx(-1.0)
    assert np.count_nonzero(z) == 2


def test_lead_attention_heatmap_is_leads_by_beats():
    att = np.random.default_rng(0).dirichlet(np.ones(12), size=9)      # 9 beats
    mask = np.ones(12, bool)
    mask[3] = False
    fig = F.lead_attention_heatmap(att, mask)
    z = np.asarray(fig.data[0].z, float)
    assert z.shape == (12, 9)
    assert list(fig.data[0].y) == list(LEADS) and list(fig.data[0].x) == list(range(1, 10))
    assert np.isnan(z[3]).all() and np.allclose(z[0], att[:, 0])


def test_attention_figure_aligns_beats_under_the_rhythm_strip(record):
    ecg, r = record
    rng = np.random.default_rng(1)
    lead_att = rng.dirichlet(np.ones(12), size=r.size)
    beat_att = rng.dirichlet(np.ones(r.size))
    fig = F.attention_figure(ecg, r, lead_att, beat_att)
    bars = next(t for t in fig.data if t.type == "bar")
    hm = next(t for t in fig.data if t.type == "heatmap")
    assert np.asarray(hm.z).shape == (12, r.size)
    assert np.allclose(bars.x, r / ecg.fs * 25.0) and np.allclose(hm.x, r / ecg.fs * 25.0)
    assert np.allclose(bars.y, beat_att)
    assert fig.layout.xaxis2.matches == "x3" or fig.layout.xaxis.matches == "x3"   # one shared time axis


def test_probability_bars_sorted_with_thresholds():
    probs = {"NORM": 0.2, "AFIB": 0.9, "IMI": 0.55}
    thr = {"NORM": 0.5, "AFIB": 0.4, "IMI": 0.6}
    fig = F.probability_figure(probs, thr, {"AFIB": "atrial fibrillation"})
    assert fig.layout.meta["codes"] == ["NORM", "IMI", "AFIB"]       # bottom to top: highest on top
    bars, ticks = fig.data
    assert list(bars.x) == [0.2, 0.55, 0.9] and list(ticks.x) == [0.5, 0.6, 0.4]
    colours = list(bars.marker.color)
    assert colours[2] != colours[1] and colours[0] == colours[1]     # only AFIB passes its threshold


def test_comparison_and_pipeline_figures_build():
    fig = F.lead_comparison_figure(np.full(12, 1 / 12), np.linspace(-1, 1, 12), label="AFIB")
    assert len(fig.data[0].y) == 12 and len(fig.data[1].y) == 12
    fig = F.beat_comparison_figure(np.full(5, 0.2), np.arange(5.0), label="AFIB")
    assert list(fig.data[1].x) == [1, 2, 3, 4, 5]
    assert F.pipeline_figure().layout.shapes
