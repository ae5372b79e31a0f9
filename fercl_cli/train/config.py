"""Pretraining configuration: the paper's defaults, config files, command-line overrides.

Precedence: dataclass defaults < ``--config`` file (TOML, YAML or JSON) < options given on the command
line. The resolved configuration is written to ``RUN_DIR/config.json`` and into every checkpoint.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from fercl_cli.choices import (
    DESCRIPTOR_KINDS,
    DEVICES,
    MASK_FN_MODES,
    OPTIMIZERS,
    DescriptorKind,
    Device,
    MaskFNMode,
    Optimizer,
    choice_error,
)
from fercl_cli.errors import FerclError
from fercl_cli.train.archs import ARCH_NAMES, Arch


@dataclass
class PretrainConfig:
    """Every pretraining option; defaults are the released code's values (see docs/pretrain.md).

    Strategy defaults are TimeAug + HardNeg (they need only the face store); FaceSwap needs a swap bank
    (``fercl swap``) and MaskFN cached descriptors (``fercl describe``).
    """

    store: str = ""
    out: str = ""
    swaps: str | None = None
    time_aug: bool = True
    offset_weights: str = "c"
    hard_neg: bool = True
    face_swap: bool = False
    swap_p: float = 0.8
    swap_q: float = 0.8
    mask_fn: MaskFNMode = "off"
    mask_lambda: float = 0.8
    mask_threshold: float = 0.5
    descriptor: DescriptorKind = "geometry"
    arch: Arch = "resnet50"
    size: int = 112
    occlusion_p: float = 0.8
    batch_clips: int = 128
    epochs: int = 300
    optimizer: Optimizer = "adam"
    lr: float = 3e-4
    weight_decay: float = 1e-4
    temperature: float = 0.07
    warmup_epochs: float = 10.0
    amp: bool = True
    channels_last: bool = False
    compile: bool = False
    sync_bn: bool = False
    workers: int = 4
    seed: int = 0
    max_steps: int | None = None
    device: Device = "auto"

    def validate(self) -> PretrainConfig:
        """Check values and combinations; raises :class:`FerclError` naming the option."""
        choices = {
            "offset_weights": ("a", "b", "c"),
            "mask_fn": MASK_FN_MODES,
            "descriptor": DESCRIPTOR_KINDS,
            "arch": ARCH_NAMES,
            "optimizer": OPTIMIZERS,
            "device": DEVICES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise FerclError(choice_error(f"--{name.replace('_', '-')}", allowed, getattr(self, name)))
        positive = ("batch_clips", "epochs", "lr", "temperature", "size")
        for name in positive:
            if not getattr(self, name) > 0:
                raise FerclError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        for name in ("swap_p", "swap_q", "occlusion_p"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise FerclError(
                    f"--{name.replace('_', '-')} is a probability in [0, 1], got {getattr(self, name)}"
                )
        if self.weight_decay < 0 or self.warmup_epochs < 0 or self.mask_lambda < 0 or self.workers < 0:
            raise FerclError(
                "--weight-decay, --warmup-epochs, --mask-lambda and --workers cannot be negative"
            )
        if self.seed < 0:
            raise FerclError(f"--seed must be 0 or more, got {self.seed}")
        if self.max_steps is not None and self.max_steps < 1:
            raise FerclError(f"--max-steps must be at least 1, got {self.max_steps}")
        if self.face_swap and not self.swaps:
            raise FerclError(
                "--face-swap needs a swap bank: run 'fercl swap STORE --out SWAPS' and pass --swaps SWAPS"
            )
        return self

    @property
    def maskfn(self) -> MaskFNMode | None:
        """The MaskFN mode, ``None`` when MaskFN is off: the one place ``off`` is read."""
        return None if self.mask_fn == "off" else self.mask_fn

    def to_dict(self) -> dict[str, Any]:
        """Every option by name, as ``config.json`` and checkpoints record them."""
        return asdict(self)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Options from a TOML (``.toml``), YAML (``.yaml``/``.yml``) or JSON file; keys use ``_`` or ``-``."""
    path = Path(path)
    if not path.is_file():
        raise FerclError(f"config file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                raise FerclError(
                    f"config file {path}: TOML needs Python 3.11+; use a .yaml or .json file"
                ) from None
            raw = tomllib.loads(path.read_text())
        elif suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(path.read_text()) or {}
        elif suffix == ".json":
            raw = json.loads(path.read_text())
        else:
            raise FerclError(f"config file {path}: use a .toml, .yaml/.yml or .json file")
    except (ValueError, OSError) as exc:
        raise FerclError(f"cannot parse config file {path}: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict):
        raise FerclError(f"config file {path} must hold a table of options, not {type(raw).__name__}")
    return {str(k).replace("-", "_"): v for k, v in raw.items()}


_KINDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a string"}


def _checked(label: str, value: object, declared: str) -> object:
    """``value`` if it has the declared type (``"int | None"`` style, as written in :class:`PretrainConfig`);
    ints are accepted for floats (and converted). Raises :class:`FerclError` starting with ``label``."""
    kinds = [part.strip() for part in declared.split("|")]
    if value is None and "None" in kinds:
        return value
    base = kinds[0] if kinds[0] in _KINDS else "str"  # a choice (MaskFNMode, Arch, ...) is a string
    if base == "bool":
        ok = isinstance(value, bool)
    elif base == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif base == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise FerclError(
            f"{label} must be {_KINDS[base]}{' or null' if 'None' in kinds else ''}, got {value!r}"
            + (
                " (a string: write true or false without quotes)"
                if base == "bool" and isinstance(value, str)
                else ""
            )
        )
    return value


def resolve(
    file_values: dict[str, Any], overrides: dict[str, Any], source: str = "the config file"
) -> PretrainConfig:
    """Defaults, then ``file_values`` (read from ``source``), then ``overrides`` (options given
    explicitly); every value type-checked against the declared type, then validated."""
    declared = {f.name: str(f.type) for f in fields(PretrainConfig)}
    for key in sorted(set(file_values) - set(declared)):
        close = difflib.get_close_matches(key, list(declared), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(declared)}"
        raise FerclError(f"{source}: unknown option {key!r}{hint}")
    values = {k: _checked(f"{source}: {k}", v, declared[k]) for k, v in file_values.items()}
    values.update({k: _checked(f"--{k.replace('_', '-')}", v, declared[k]) for k, v in overrides.items()})
    return PretrainConfig(**values).validate()


def saved_run_config(out: str | Path) -> dict[str, Any]:
    """The resolved options a run wrote to ``out/config.json`` (empty when there is none): the base of a
    ``--resume``, under a ``--config`` file and options given again. ``max_steps`` is left out: it stops
    one session, it is not a property of the run."""
    path = Path(out) / "config.json"
    saved = load_config_file(path) if path.is_file() else {}
    saved.pop("max_steps", None)
    return saved


def changed_options(before: dict[str, Any], after: PretrainConfig) -> dict[str, tuple[Any, Any]]:
    """Options whose value differs between ``before`` (a saved config) and ``after``: name → (old, new)."""
    now = after.to_dict()
    return {k: (before[k], now[k]) for k in sorted(before) if k in now and before[k] != now[k]}
