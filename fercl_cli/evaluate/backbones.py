"""The backbone an evaluation runs on, from ``--checkpoint``: a fercl pretraining checkpoint, a torchvision
ResNet state dict (``torchvision:PATH``, e.g. the supervised ImageNet baseline; ``imagenet:PATH`` is the
older name), another library's checkpoint (solo-learn, lightly, SimCLR, MoCo: :mod:`.foreign`) or
``random`` (the random-init floor, of the ``--arch`` asked for).

Every backbone maps images float [B, 3, H, W] (ImageNet-normalised) to pooled features float [B, F]:
a torchvision ResNet without ``fc`` (F = 512 for resnet18, 2048 for resnet50) or, for fercl checkpoints
and ``random``, any fercl architecture (:data:`~fercl_cli.train.archs.ARCH_NAMES`: also resnet18-cifar,
F = 512, and smallcnn, F = 256). Other libraries' files and ``torchvision:PATH`` are matched against the
torchvision ResNets only. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.foreign import find_backbone
from fercl_cli.evaluate.resnet_names import infer_arch, infer_resnet_arch, strip_wrappers, without_fc
from fercl_cli.safe_load import load_tensors
from fercl_cli.train.archs import ARCH_NAMES, FEATURE_DIMS, TORCHVISION_ARCHS, arch_error

if TYPE_CHECKING:
    import torch

TORCHVISION_PREFIX = "torchvision:"
WEIGHTS_PREFIXES = (TORCHVISION_PREFIX, "imagenet:")
"""``torchvision:PATH`` loads any torchvision ResNet state dict; ``imagenet:`` is its older name."""
RANDOM = "random"
RANDOM_RAW = "random-raw"
PIXELS = "pixels"
LANDMARKS = "landmarks"
PIXEL_SIDE = 16
"""``pixels``: no network; features are the normalised input image average-pooled to 16 × 16 per channel."""
"""``random``: the floor, BatchNorm statistics calibrated on the evaluation's training images
(:mod:`.calibrate`); ``random-raw``: the same network with its initial statistics (mean 0, variance 1)."""
_WHAT = (
    "pass a fercl run directory or checkpoint, or a torchvision, solo-learn, lightly, SimCLR or MoCo "
    "ResNet-18/50 checkpoint"
)


@dataclass(frozen=True)
class Backbone:
    """A backbone ready for feature extraction or fine-tuning.

    Attributes:
        module: ``torch.nn.Module`` mapping images [B, 3, H, W] to features [B, F], on the CPU, eval mode.
        arch: one of :data:`~fercl_cli.train.archs.ARCH_NAMES` (``resnet18`` or ``resnet50`` unless the
            kind is ``fercl`` or ``random``).
        feature_dim: F.
        kind: ``fercl``, ``torchvision`` (a plain torchvision state dict), ``imported`` (another
            library's checkpoint), ``random``, or ``pixels`` / ``landmarks`` (arch the same: no network).
        spec: what ``--checkpoint`` said.
        path: the weights file read (None for ``random``).
        hash: ``sha256:<hex>`` of that file, or ``random:<arch>:<seed>``.
        description: one line for the output.
        config: the pretraining configuration stored in a fercl checkpoint (empty otherwise).
        bn_calibration: for ``random``: how its BatchNorm statistics were calibrated (filled in by the
            evaluation that calibrates them); None when they are used as stored or initialised.
    """

    module: Any
    arch: str
    feature_dim: int
    kind: str
    spec: str
    path: Path | None
    hash: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    bn_calibration: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything but the module, JSON-ready."""
        return {
            "spec": self.spec,
            "kind": self.kind,
            "arch": self.arch,
            "feature_dim": self.feature_dim,
            "path": None if self.path is None else str(self.path),
            "hash": self.hash,
            "description": self.description,
            "config": self.config,
            "bn_calibration": self.bn_calibration,
        }


def file_sha256(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """``sha256:<hex>`` of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def _load_backbone(arch: str, state: Mapping[str, Any], where: Path) -> torch.nn.Module:
    from fercl_cli.train.model import build_backbone

    backbone, _ = build_backbone(arch)
    try:
        backbone.load_state_dict(without_fc(strip_wrappers(state)), strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise FerclError(f"{where}: the weights do not fit a {arch} backbone ({first})") from None
    return backbone.eval()


def _check_arch(arch: str | None) -> None:
    if arch is not None and arch not in ARCH_NAMES:
        raise FerclError(arch_error("--arch", arch))


def _file(spec: str, arch: str | None) -> Backbone:
    """A fercl run directory or checkpoint, or any other file: a foreign checkpoint or state dict."""
    from fercl_cli.train import checkpoint
    from fercl_cli.train.checkpoint import LAST

    path = Path(spec)
    if not path.exists():
        raise FerclError(
            f"{path}: checkpoint not found; pass a fercl run directory or checkpoint file, another "
            "library's ResNet checkpoint (solo-learn, lightly, SimCLR, MoCo, torchvision), "
            "torchvision:PATH for torchvision ResNet weights (e.g. ImageNet), or 'random'"
        )
    if path.is_dir():
        return _fercl(spec, path / LAST, checkpoint.load(path), arch)
    payload = load_tensors(path, "checkpoint or weights file", _WHAT)
    if checkpoint.is_checkpoint(payload):
        return _fercl(spec, path, checkpoint.check(path, payload), arch)
    return _imported(spec, path, payload, arch)


def _fercl(spec: str, file: Path, payload: dict[str, Any], arch: str | None) -> Backbone:
    config = payload["config"] if isinstance(payload["config"], dict) else {}
    model_state = payload["model"]
    if not isinstance(model_state, Mapping):
        raise FerclError(
            f"{file}: its 'model' entry is not a state dict; pass a checkpoint fercl pretrain wrote"
        )
    state = {
        k.split("backbone.", 1)[1]: v
        for k, v in strip_wrappers(model_state).items()
        if k.startswith("backbone.")
    }
    if not state:
        raise FerclError(f"{file}: the checkpoint holds no backbone weights ('backbone.*' keys)")
    found = infer_arch(state)
    stated = config.get("arch")
    if found is None:
        raise FerclError(f"{file}: the backbone weights fit none of {', '.join(ARCH_NAMES)}")
    if stated is not None and stated != found:
        raise FerclError(f"{file}: its config says arch {stated!r} but the weights are a {found}")
    if arch is not None and arch != found:
        raise FerclError(
            f"{file}: the checkpoint is a {found} backbone, not the {arch} asked for with --arch; "
            f"drop --arch or pass a {arch} checkpoint"
        )
    module = _load_backbone(found, state, file)
    return Backbone(
        module=module,
        arch=found,
        feature_dim=FEATURE_DIMS[found],
        kind="fercl",
        spec=spec,
        path=file,
        hash=file_sha256(file),
        description=f"fercl pretraining checkpoint {file} ({found})",
        config=config,
    )


def _imported(spec: str, file: Path, payload: Any, arch: str | None) -> Backbone:
    """The backbone of a foreign checkpoint or plain state dict (:func:`.foreign.find_backbone`)."""
    found = find_backbone(payload, file)
    if arch is not None and arch != found.arch:
        raise FerclError(
            f"{file}: the weights are a {found.arch}, not the {arch} asked for with --arch; "
            f"drop --arch or pass {arch} weights"
        )
    plain = found.where == "the file" and not found.prefix and not found.sequential
    return Backbone(
        module=_load_backbone(found.arch, found.state, file),
        arch=found.arch,
        feature_dim=FEATURE_DIMS[found.arch],
        kind="torchvision" if plain else "imported",
        spec=spec,
        path=file,
        hash=file_sha256(file),
        description=f"{found.arch} weights {file} ({found.describe()})",
    )


def _torchvision(spec: str, arch: str | None) -> Backbone:
    prefix = next(p for p in WEIGHTS_PREFIXES if spec.startswith(p))
    text = spec[len(prefix) :]
    if not text:
        raise FerclError(f"--checkpoint {prefix}PATH needs the path of a torchvision ResNet state-dict file")
    path = Path(text).expanduser()
    what = "a torchvision ResNet-18/50 state dict (ImageNet weights, or any other)"
    if not path.is_file():
        raise FerclError(
            f"{path}: weights file not found; fercl never downloads weights: fetch torchvision's resnet50 (or "
            f"resnet18) ImageNet .pth on a connected machine, or pass {what}, as {TORCHVISION_PREFIX}PATH"
        )
    state = load_tensors(path, "torch state-dict file", f"pass {what}")
    found = infer_resnet_arch(state) if isinstance(state, Mapping) else None
    if found is None:
        raise FerclError(
            f"{path}: not a torchvision {' or '.join(TORCHVISION_ARCHS)} state dict (keys or shapes differ); pass {what}; "
            f"another library's checkpoint: pass its path without {prefix}"
        )
    if arch is not None and arch != found:
        raise FerclError(
            f"{path}: the weights are a {found}, not the {arch} asked for with --arch; "
            f"drop --arch or pass {arch} weights"
        )
    return Backbone(
        module=_load_backbone(found, state, path),
        arch=found,
        feature_dim=FEATURE_DIMS[found],
        kind="torchvision",
        spec=spec,
        path=path,
        hash=file_sha256(path),
        description=f"torchvision {found} weights {path} (e.g. supervised ImageNet)",
    )


def random_hash(spec: str, arch: str, seed: int = 0) -> str:
    """The hash results record for ``random`` (calibrated) or ``random-raw`` of ``arch`` and ``seed``."""
    from fercl_cli.evaluate.calibrate import BN_IMAGES

    return f"random-bn{BN_IMAGES}:{arch}:{seed}" if spec == RANDOM else f"random:{arch}:{seed}"


def builtin_hash(spec: str, arch: str | None, seed: int = 0) -> str | None:
    """The hash results record for a built-in ``--checkpoint`` (``random``, ``random-raw``, ``pixels``) of
    ``arch`` and ``seed``; None when ``spec`` names a file (its hash is the file's SHA-256)."""
    if spec == PIXELS:
        return f"{PIXELS}:{PIXEL_SIDE}"
    if spec == LANDMARKS:
        return f"{LANDMARKS}:dlib68"
    if spec in (RANDOM, RANDOM_RAW) and arch is not None:
        return random_hash(spec, arch, seed)
    return None


def expected_hash(spec: str, arch: str | None, seed: int = 0) -> str:
    """The hash a results file of ``spec`` records, without loading a network: a built-in checkpoint's
    (:func:`builtin_hash`), else the SHA-256 of the file (a run directory's ``last.pt``, a ``torchvision:``
    file's path after the prefix).

    Raises:
        OSError: the file cannot be read.
    """
    from fercl_cli.train.checkpoint import LAST

    builtin = builtin_hash(spec, arch, seed)
    if builtin is not None:
        return builtin
    for prefix in WEIGHTS_PREFIXES:
        spec = spec.removeprefix(prefix)
    path = Path(spec)
    return file_sha256(path / LAST if path.is_dir() else path)


def _random(arch: str | None, seed: int, calibrate: bool) -> Backbone:
    import torch

    from fercl_cli.train.model import build_backbone

    if arch is None:
        raise FerclError(
            f"--checkpoint {RANDOM if calibrate else RANDOM_RAW} needs --arch (one of {', '.join(ARCH_NAMES)}): the "
            "architecture of the runs it is the floor for (a resnet50 floor under a resnet18 run would not be the same network)"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module, feature_dim = build_backbone(arch)
    spec = RANDOM if calibrate else RANDOM_RAW
    if calibrate:
        from fercl_cli.evaluate.calibrate import BN_IMAGES

        statistics = "BatchNorm statistics calibrated on the evaluation's training images"
        calibration = {"images_at_most": BN_IMAGES, "split": "train"}
    else:
        statistics, calibration = "BatchNorm statistics as initialised (mean 0, variance 1)", None
    return Backbone(
        module=module.eval(),
        arch=arch,
        feature_dim=feature_dim,
        kind="random",
        spec=spec,
        path=None,
        hash=random_hash(spec, arch, seed),
        description=f"randomly initialised {arch} (seed {seed}), {statistics}"
        + (": the floor any pretraining must beat" if calibrate else ""),
        bn_calibration=calibration,
    )


def _pixels() -> Backbone:
    import torch

    module = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(PIXEL_SIDE), torch.nn.Flatten())
    dim = 3 * PIXEL_SIDE * PIXEL_SIDE
    return Backbone(
        module=module.eval(),
        arch=PIXELS,
        feature_dim=dim,
        kind=PIXELS,
        spec=PIXELS,
        path=None,
        hash=str(builtin_hash(PIXELS, None)),
        description=f"raw pixels: the input image average-pooled to {PIXEL_SIDE}×{PIXEL_SIDE}×3 = {dim} values "
        "(no network): the floor of what a linear probe reads from the image itself",
    )


def _landmarks() -> Backbone:
    from fercl_cli.evaluate.geometry_floor import FEATURE_DIM, LandmarkGeometry
    from fercl_cli.faces.dlib_backend import DlibBackend

    return Backbone(
        module=LandmarkGeometry(DlibBackend()),
        arch=LANDMARKS,
        feature_dim=FEATURE_DIM,
        kind=LANDMARKS,
        spec=LANDMARKS,
        path=None,
        hash=str(builtin_hash(LANDMARKS, None)),
        description="landmark geometry: dlib's 68 points fitted in the aligned crop, as offsets from the "
        "template (136 values, no learned features): the floor of what the face's shape alone tells",
    )


def resolve_for_new_images(spec: str, arch: str | None = None) -> Backbone:
    """:func:`resolve_backbone` for images outside an evaluation set (embed, predict): the calibrated
    ``random`` floor is refused, since its BatchNorm statistics come from an evaluation's training split."""
    if spec == RANDOM:
        raise FerclError(
            f"--checkpoint {RANDOM} calibrates BatchNorm on an evaluation's training images, which new images "
            f"do not have; pass --checkpoint {RANDOM_RAW} (initial statistics) or a trained checkpoint"
        )
    return resolve_backbone(spec, arch)


def resolve_backbone(spec: str, arch: str | None = None, seed: int = 0) -> Backbone:
    """The backbone ``spec`` names.

    Args:
        spec: a fercl checkpoint file or run directory (its ``last.pt``), another library's checkpoint
            file (:mod:`.foreign`: solo-learn, lightly, SimCLR, MoCo or a plain torchvision state dict),
            ``torchvision:PATH`` (or ``imagenet:PATH``: a torchvision ResNet-18/50 state dict), or
            ``random`` (BatchNorm statistics to be calibrated by the evaluation), ``random-raw`` or
            ``pixels`` / ``landmarks`` (the raw-pixel and landmark-geometry floors, no network; ``arch`` is
            ignored). The
            architecture of a file is read from its keys and shapes (a fercl checkpoint's from all of
            :data:`~fercl_cli.train.archs.ARCH_NAMES`, other files' from the torchvision ResNets).
        arch: the architecture expected; a checkpoint of another one is an error. ``random*`` needs it:
            the architecture built.
        seed: initialisation seed of ``random``.

    Raises:
        FerclError: the file is missing, unreadable, of no known architecture, or not of ``arch``.
    """
    _check_arch(arch)
    if spec == PIXELS:
        return _pixels()
    if spec == LANDMARKS:
        return _landmarks()
    if spec in (RANDOM, RANDOM_RAW):
        return _random(arch, seed, calibrate=spec == RANDOM)
    if spec.startswith(WEIGHTS_PREFIXES):
        return _torchvision(spec, arch)
    return _file(spec, arch)
