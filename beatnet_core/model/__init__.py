"""Models: BEAT-Net on heartbeat tokens and the PTB-XL benchmark CNNs on the signal.

Every model class carries

- ``input_kind``: ``"tokens"`` -- called as
  ``model(tokens, beat_mask, lead_mask, beat_times, rr)`` and returning
  ``(logits, attention_dict)`` -- or ``"signal"`` -- called as
  ``model(signal)`` on the conditioned ``(B, 12, S)`` signal and returning
  ``logits``;
- ``config_class``: its config dataclass; ``model.config.to_dict()`` is
  JSON-serialisable and ``build_model(name, **that_dict)`` rebuilds the model.
"""
from __future__ import annotations

from torch import nn

from beatnet_core.model.baselines import Inception1d, Inception1dConfig, XResNet1d, XResNet1dConfig
from beatnet_core.model.beatnet import BeatNet, BeatNetConfig

MODELS: dict[str, type[nn.Module]] = {
    "beatnet": BeatNet,
    "xresnet1d101": XResNet1d,
    "inception1d": Inception1d,
}


def build_model(name: str, n_classes: int, **config_overrides) -> nn.Module:
    """Build a registered model with its default config, overridden where given.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`.
    n_classes : int
        Number of output logits.
    **config_overrides
        Fields of the model's config dataclass (lists are accepted for tuples,
        so a config read back from JSON works).

    Returns
    -------
    nn.Module
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    model_class = MODELS[name]
    config = model_class.config_class.from_dict({**config_overrides, "n_classes": n_classes})
    return model_class(config)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


__all__ = ["MODELS", "build_model", "count_parameters", "BeatNet", "BeatNetConfig",
           "XResNet1d", "XResNet1dConfig", "Inception1d", "Inception1dConfig"]
