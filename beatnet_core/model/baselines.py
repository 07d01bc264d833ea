"""The two CNN baselines of the PTB-XL benchmark, on the whole signal.

Strodthoff N., Wagner P., Schaeffter T., Samek W., "Deep Learning for ECG
Analysis: Benchmarks and Insights from PTB-XL", IEEE JBHI 25(5), 2021; code at
github.com/helme/ecg_ptbxl_benchmarking (``code/models/xresnet1d.py``,
``inception1d.py``, ``basic_conv1d.py``; hyper-parameters from
``code/models/fastai_model.py`` and ``code/configs/fastai_configs.py``).
Re-written here in plain PyTorch (the original needs fastai v1), layer for
layer:

- ``xresnet1d101``: XResNet (He et al. 2019, "Bag of tricks") in 1-D,
  bottleneck blocks (expansion 4), stages [3, 4, 23, 3], kernel size 5 in the
  stem and the blocks (``fastai_model(kernel_size=5)``), a stem of 3 convs
  (32, 32, 64), and -- as in the benchmark, not as in the 2-D ImageNet net --
  64 bottleneck channels (256 out) in *every* stage;
- ``inception1d``: InceptionTime (Fawaz et al. 2020): depth 6, 32 filters
  per branch, kernel sizes 39/19/9 after a 32-channel bottleneck, a
  max-pool branch, a residual shortcut every 3 blocks.

Both end in the benchmark head (``create_head1d`` with ``lin_ftrs=[128]``,
``ps=0.5``): concat max+avg pooling, BN-Dropout(0.25)-Linear(128)-ReLU,
BN-Dropout(0.5)-Linear(n_classes). Both are initialised as the benchmark
trains them (``weight_init`` applied in ``fastai_model.fit``: Kaiming-normal
convs and linears, zero biases, BatchNorm weight 1 / bias 0 -- which also
undoes XResNet's zero-initialised last BatchNorm of each block).

Input ``(B, 12, S)`` conditioned signal, any S (the benchmark trains on
2.5 s crops at 100 Hz and aggregates sliding windows; here the caller decides).
Kernel sizes are in samples, so at 250 Hz the receptive field in seconds is
2.5x smaller than in the 100 Hz benchmark. Output: logits ``(B, n_classes)``.

``width`` scales every channel count (not the head's 128 units) for a
smaller variant trainable on a CPU; the defaults are the benchmark's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def _from_dict(cls, d: dict):
    known = {f.name for f in fields(cls)}
    unknown = set(d) - known
    if unknown:
        raise TypeError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    return cls(**d)


def benchmark_weight_init(module: nn.Module) -> None:
    """``weight_init`` of basic_conv1d.py, applied by the benchmark before training."""
    if isinstance(module, (nn.Conv1d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm1d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class AdaptiveConcatPool1d(nn.Module):
    """Concatenated global max and average pooling (max first, as in fastai)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, S) -> (B, 2C)
        return torch.cat([x.amax(dim=-1), x.mean(dim=-1)], dim=1)


def benchmark_head(n_features: int, n_classes: int, hidden: int = 128, dropout: float = 0.5) -> nn.Sequential:
    """``create_head1d(nf, nc, lin_ftrs=[hidden], ps=dropout)`` of the benchmark.

    fastai halves the dropout of the hidden layer (``ps/2``) and uses
    ``bn_drop_lin`` = BatchNorm, Dropout, Linear (then ReLU except last).
    """
    return nn.Sequential(
        AdaptiveConcatPool1d(),                                   # (B, 2 nf)
        nn.BatchNorm1d(2 * n_features), nn.Dropout(dropout / 2),
        nn.Linear(2 * n_features, hidden), nn.ReLU(inplace=True),
        nn.BatchNorm1d(hidden), nn.Dropout(dropout),
        nn.Linear(hidden, n_classes),                             # (B, n_classes)
    )


def conv_bn(c_in: int, c_out: int, kernel_size: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    """fastai ``ConvLayer(ndim=1)``: conv (no bias), BatchNorm, optional ReLU."""
    layers = [nn.Conv1d(c_in, c_out, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, bias=False),
              nn.BatchNorm1d(c_out)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- XResNet1d

@dataclass
class XResNet1dConfig:
    """``xresnet1d101`` of the PTB-XL benchmark (defaults are the benchmark's)."""

    n_classes: int = 5
    in_channels: int = 12
    layers: tuple[int, ...] = (3, 4, 23, 3)   # bottleneck blocks per stage
    expansion: int = 4
    stem_channels: tuple[int, ...] = (32, 32, 64)
    block_channels: int = 64                  # bottleneck width, the same in every stage
    kernel_size: int = 5
    kernel_size_stem: int = 5
    head_hidden: int = 128
    head_dropout: float = 0.5
    width: float = 1.0                        # multiplies stem and block channels

    def __post_init__(self) -> None:
        self.layers = tuple(int(n) for n in self.layers)
        self.stem_channels = tuple(int(c) for c in self.stem_channels)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "XResNet1dConfig":
        return _from_dict(cls, d)


class Bottleneck1d(nn.Module):
    """XResNet bottleneck block: 1x1 -> kxk (stride) -> 1x1, ReLU(convs + identity).

    The identity path downsamples with an average pool before its 1x1 conv
    (ResNet-D, "Bag of tricks"), instead of a strided 1x1 conv that would
    skip three samples out of four.
    """

    def __init__(self, c_in: int, c_mid: int, c_out: int, kernel_size: int, stride: int):
        super().__init__()
        self.convs = nn.Sequential(
            conv_bn(c_in, c_mid, 1),
            conv_bn(c_mid, c_mid, kernel_size, stride=stride),
            conv_bn(c_mid, c_out, 1, relu=False),
        )
        identity = []
        if stride != 1:
            identity.append(nn.AvgPool1d(2, ceil_mode=True))
        if c_in != c_out:
            identity.append(conv_bn(c_in, c_out, 1, relu=False))
        self.identity = nn.Sequential(*identity)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, c_in, S) -> (B, c_out, ceil(S / stride))
        return self.act(self.convs(x) + self.identity(x))


class XResNet1d(nn.Module):
    """XResNet1d on the whole signal: (B, 12, S) -> logits (B, n_classes)."""

    input_kind = "signal"
    config_class = XResNet1dConfig

    def __init__(self, config: XResNet1dConfig):
        super().__init__()
        self.config = config
        w = config.width
        stem_channels = [config.in_channels] + [_scaled(c, w) for c in config.stem_channels]
        self.stem = nn.Sequential(*[
            conv_bn(stem_channels[i], stem_channels[i + 1], config.kernel_size_stem, stride=2 if i == 0 else 1)
            for i in range(len(stem_channels) - 1)])                             # (B, 64, S/2)
        self.stem_pool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)        # (B, 64, S/4)
        c_mid = _scaled(config.block_channels, w)
        c_out = c_mid * config.expansion
        c_in = stem_channels[-1]
        stages = []
        for i, n_blocks in enumerate(config.layers):                            # each later stage halves S
            blocks = []
            for j in range(n_blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(Bottleneck1d(c_in, c_mid, c_out, config.kernel_size, stride))
                c_in = c_out
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)                                     # (B, 256, S/32)
        self.head = benchmark_head(c_out, config.n_classes, config.head_hidden, config.head_dropout)
        self.apply(benchmark_weight_init)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        # signal: (B, 12, S) -> (B, n_classes)
        return self.head(self.stages(self.stem_pool(self.stem(signal))))


# --------------------------------------------------------------------------- Inception1d

@dataclass
class Inception1dConfig:
    """``inception1d`` of the PTB-XL benchmark (defaults are the benchmark's).

    The benchmark builds it with ``kernel_size=8*5=40``, turned into the odd
    sizes 39, 19, 9.
    """

    n_classes: int = 5
    in_channels: int = 12
    depth: int = 6                              # inception blocks, a multiple of 3
    n_filters: int = 32                         # per branch; a block outputs 4x this
    bottleneck: int = 32
    kernel_sizes: tuple[int, ...] = (39, 19, 9)
    use_residual: bool = True
    head_hidden: int = 128
    head_dropout: float = 0.5
    width: float = 1.0                          # multiplies n_filters and bottleneck

    def __post_init__(self) -> None:
        self.kernel_sizes = tuple(int(k) for k in self.kernel_sizes)
        if self.depth % 3:
            raise ValueError("depth must be a multiple of 3 (a shortcut every 3 blocks)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Inception1dConfig":
        return _from_dict(cls, d)


class InceptionBlock1d(nn.Module):
    """Bottleneck, then parallel convs of several lengths plus a max-pool branch."""

    def __init__(self, c_in: int, n_filters: int, kernel_sizes: tuple[int, ...], bottleneck: int):
        super().__init__()
        self.bottleneck = nn.Conv1d(c_in, bottleneck, 1, bias=False)
        self.convs = nn.ModuleList(
            nn.Conv1d(bottleneck, n_filters, k, padding=(k - 1) // 2, bias=False) for k in kernel_sizes)
        self.pool_branch = nn.Sequential(nn.MaxPool1d(3, stride=1, padding=1),
                                         nn.Conv1d(c_in, n_filters, 1, bias=False))
        n_out = n_filters * (len(kernel_sizes) + 1)
        self.bn_relu = nn.Sequential(nn.BatchNorm1d(n_out), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, c_in, S) -> (B, 4 n_filters, S)
        bottled = self.bottleneck(x)
        branches = [conv(bottled) for conv in self.convs] + [self.pool_branch(x)]
        return self.bn_relu(torch.cat(branches, dim=1))


class Shortcut1d(nn.Module):
    """Residual shortcut over 3 inception blocks: ReLU(out + BN(conv1x1(input)))."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm1d(c_out)
        self.act = nn.ReLU(inplace=True)

    def forward(self, block_input: torch.Tensor, block_output: torch.Tensor) -> torch.Tensor:
        return self.act(block_output + self.bn(self.conv(block_input)))


class Inception1d(nn.Module):
    """InceptionTime on the whole signal: (B, 12, S) -> logits (B, n_classes)."""

    input_kind = "signal"
    config_class = Inception1dConfig

    def __init__(self, config: Inception1dConfig):
        super().__init__()
        self.config = config
        n_filters = _scaled(config.n_filters, config.width)
        bottleneck = _scaled(config.bottleneck, config.width)
        c_out = n_filters * (len(config.kernel_sizes) + 1)
        self.blocks = nn.ModuleList(
            InceptionBlock1d(config.in_channels if d == 0 else c_out, n_filters, config.kernel_sizes, bottleneck)
            for d in range(config.depth))
        self.shortcuts = nn.ModuleList(
            Shortcut1d(config.in_channels if s == 0 else c_out, c_out) for s in range(config.depth // 3))
        self.head = benchmark_head(c_out, config.n_classes, config.head_hidden, config.head_dropout)
        self.apply(benchmark_weight_init)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        # signal: (B, 12, S) -> (B, n_classes); length S is kept until the head
        x = residual = signal
        for d, block in enumerate(self.blocks):
            x = block(x)                                                         # (B, 128, S)
            if self.config.use_residual and d % 3 == 2:
                x = residual = self.shortcuts[d // 3](residual, x)
        return self.head(x)
