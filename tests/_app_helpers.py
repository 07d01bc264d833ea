"""Shared by the app and explanation tests: the predictor they run, and paths.

The tests use the bundled model (assets/model) when it is there. Without it
(before the first trained model is committed) they use the real
``BeatNetPredictor`` around an *untrained* BEAT-Net with the same interface,
so the app and the explanations are still tested end to end; only the
diagnoses are then meaningless, which no test here relies on.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "sample_ecgs"

UNTRAINED_LABELS = {
    "NORM": "normal ECG", "MI": "myocardial infarction", "STTC": "ST/T change",
    "CD": "conduction disturbance", "HYP": "hypertrophy", "AFIB": "atrial fibrillation",
    "SR": "sinus rhythm", "IMI": "inferior myocardial infarction", "CRBBB": "complete right bundle branch block",
    "LVH": "left ventricular hypertrophy",
}


def bundled_model_error() -> str | None:
    """None if the bundled model loads, else why not."""
    try:
        predictor_class().load(None)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def predictor_class():
    try:
        from beatnet_core import BeatNetPredictor
    except ImportError:
        from beatnet_core.predict import BeatNetPredictor
    return BeatNetPredictor


@lru_cache(maxsize=4)
def untrained_predictor(whole_beat_pooled: bool = True, rhythm_summary: bool = True):
    """A BeatNetPredictor around a freshly initialised BEAT-Net (seeded): same interface, no training.

    Today's model by default. ``whole_beat_pooled=False``: beat vectors without
    the whole-beat reading; ``rhythm_summary=False``: a record vector without
    the RR statistics (both False: the model before the ninth round).
    """
    import torch

    from beatnet_core.model.beatnet import BeatNet, BeatNetConfig
    from beatnet_core.signal import ConditioningSpec

    torch.manual_seed(0)
    labels = list(UNTRAINED_LABELS)
    model = BeatNet(BeatNetConfig(n_classes=len(labels), whole_beat_pooled=whole_beat_pooled,
                                  rhythm_summary=rhythm_summary)).eval()
    with torch.no_grad():   # spread the untrained outputs so some labels pass their threshold
        model.head[-1].bias.copy_(torch.linspace(-2.0, 2.0, len(labels)))
    run = {"config": {"model": "beatnet"}, "labels": labels, "descriptions": dict(UNTRAINED_LABELS),
           "thresholds": np.full(len(labels), 0.5), "spec": ConditioningSpec(), "task": "untrained (tests)"}
    return predictor_class()(model, run, Path("untrained-test-model"))


@lru_cache(maxsize=1)
def predictor_for_tests():
    """(predictor, is_bundled): the bundled model, or the untrained stand-in when it is not there."""
    try:
        return predictor_class().load(None), True
    except FileNotFoundError:
        return untrained_predictor(), False


def write_untrained_run(out: Path) -> Path:
    """Save :func:`untrained_predictor`'s model as a run directory (the layout ``beatnet train`` writes),
    for an app started in another process (``BEATNET_MODEL=out``) when no bundled model exists."""
    import json

    from safetensors.torch import save_file

    p = untrained_predictor()
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in p.model.state_dict().items()}, str(out / "weights.safetensors"))
    config = p.model.config.to_dict()
    (out / "config.json").write_text(json.dumps({"model": "beatnet", "model_config": config}))
    (out / "labels.json").write_text(json.dumps({"task": "untrained (tests)", "labels": p.label_names,
                                                 "descriptions": UNTRAINED_LABELS}))
    (out / "conditioning.json").write_text(p.spec.to_json())
    (out / "thresholds.json").write_text(json.dumps({c: 0.5 for c in p.label_names}))
    return out
