"""The paper's two asymmetric augmentation pipelines, as batched tensor ops (CPU or GPU).

Per image, in this order (as in the released code; the stored crops already are 128 px):

1. facial-part occlusion, p 0.8: an ellipse over the right eye (landmarks 36-41), the left eye
   (42-47) or the mouth (48-67), the part drawn per image, filled with the image's mean colour; the
   ellipse is inscribed in the part's landmark box widened by ``occlusion_margin · input_size`` px;
2. random crop ``size`` (112) out of ``input_size`` (128);
3. horizontal flip, p 0.5;
4. colour jitter (brightness, contrast, saturation 0.4, hue 0.2) in a random order per image: always
   on view 1, p 0.8 on view 2;
5. Gaussian blur, kernel 3, σ ~ U[0.1, 2], p 0.5;
6. grayscale, p 0.2;
7. ImageNet normalisation.

The occlusion comes first, in stored-crop coordinates, so crop and flip move it with the face and no
landmark needs transforming. Random parameters are drawn on the CPU from a ``torch.Generator`` (so a
seed gives the same views on any device) and each image gets its own. Images of another size than
``input_size`` are resized to it first (landmarks scaled alike).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
OCCLUSION_PARTS: dict[str, tuple[int, int]] = {"right_eye": (36, 42), "left_eye": (42, 48), "mouth": (48, 68)}
PART_NAMES = tuple(OCCLUSION_PARTS)
JITTER_OPS = ("brightness", "contrast", "saturation", "hue")
# Released code: ellipse box = landmark box ± 10 px on 224 px VoxCeleb1 face frames.
OCCLUSION_MARGIN = 10 / 224


@dataclass(frozen=True)
class ViewConfig:
    """One augmentation pipeline; probabilities in [0, 1], sizes in pixels, jitter strengths as in
    ``torchvision.transforms.ColorJitter(brightness, contrast, saturation, hue)``."""

    size: int = 112
    input_size: int = 128
    flip_p: float = 0.5
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.2)
    jitter_p: float = 1.0
    blur_p: float = 0.5
    blur_kernel: int = 3
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    gray_p: float = 0.2
    occlusion_p: float = 0.8
    occlusion_margin: float = OCCLUSION_MARGIN
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        for name in ("flip_p", "jitter_p", "blur_p", "gray_p", "occlusion_p"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability and must lie in [0, 1], got {getattr(self, name)}")
        if not 1 <= self.size <= self.input_size:
            raise ValueError(f"crop size {self.size} must be between 1 and input_size {self.input_size}")
        brightness, contrast, saturation, hue = self.jitter
        if min(brightness, contrast, saturation) < 0 or not 0 <= hue <= 0.5:
            raise ValueError(
                f"jitter needs brightness/contrast/saturation >= 0 and hue in [0, 0.5], got {self.jitter}"
            )
        if self.blur_kernel < 1 or self.blur_kernel % 2 == 0:
            raise ValueError(f"blur_kernel must be a positive odd size, got {self.blur_kernel}")
        if not 0 < self.blur_sigma[0] <= self.blur_sigma[1]:
            raise ValueError(f"blur_sigma must be (low, high) with 0 < low <= high, got {self.blur_sigma}")
        if self.occlusion_margin < 0:
            raise ValueError(f"occlusion_margin must be non-negative, got {self.occlusion_margin}")
        if min(self.std) <= 0:
            raise ValueError(f"std must be positive per channel, got {self.std}")


def paper_views(size: int = 112, input_size: int = 128) -> tuple[ViewConfig, ViewConfig]:
    """The paper's view 1 (jitter always) and view 2 (jitter p 0.8); everything else shared."""
    return (
        ViewConfig(size=size, input_size=input_size, jitter_p=1.0),
        ViewConfig(size=size, input_size=input_size, jitter_p=0.8),
    )


@dataclass(frozen=True)
class ViewParams:
    """Per-image random parameters, CPU tensors with leading dimension B.

    ``occlude`` bool, ``part`` int64 (index into :data:`PART_NAMES`), ``crop_y``/``crop_x`` int64 top-left
    corner in ``input_size`` pixels, ``flip`` bool, ``jitter`` bool, ``jitter_factors`` float32 [B, 4]
    (brightness, contrast, saturation multipliers and hue shift), ``jitter_order`` int64 [B, 4] (a
    permutation of :data:`JITTER_OPS` indices), ``blur`` bool, ``sigma`` float32, ``gray`` bool.
    """

    occlude: torch.Tensor
    part: torch.Tensor
    crop_y: torch.Tensor
    crop_x: torch.Tensor
    flip: torch.Tensor
    jitter: torch.Tensor
    jitter_factors: torch.Tensor
    jitter_order: torch.Tensor
    blur: torch.Tensor
    sigma: torch.Tensor
    gray: torch.Tensor

    def to(self, device: torch.device | str) -> ViewParams:
        """The same parameters on ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def select(self, index: torch.Tensor) -> ViewParams:
        """The parameters of images ``index`` (int64 [n]), in that order."""
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _generator(generator: torch.Generator | int) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        if generator.device.type != "cpu":
            raise ValueError("pass a CPU torch.Generator: parameters are drawn on the CPU for any device")
        return generator
    return torch.Generator().manual_seed(int(generator))


def sample_params(batch: int, config: ViewConfig, generator: torch.Generator | int) -> ViewParams:
    """Draw the random parameters of ``batch`` images for ``config`` from ``generator`` (or a seed)."""
    if batch < 0:
        raise ValueError(f"batch must be non-negative, got {batch}")
    g = _generator(generator)

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, *shape, generator=g)

    def chance(p: float) -> torch.Tensor:
        return torch.rand(batch, generator=g) < p

    brightness, contrast, saturation, hue = config.jitter
    factors = torch.stack(
        [
            uniform(max(0.0, 1 - brightness), 1 + brightness),
            uniform(max(0.0, 1 - contrast), 1 + contrast),
            uniform(max(0.0, 1 - saturation), 1 + saturation),
            uniform(-hue, hue),
        ],
        dim=1,
    )
    span = config.input_size - config.size + 1
    return ViewParams(
        occlude=chance(config.occlusion_p),
        part=torch.randint(0, len(PART_NAMES), (batch,), generator=g),
        crop_y=torch.randint(0, span, (batch,), generator=g),
        crop_x=torch.randint(0, span, (batch,), generator=g),
        flip=chance(config.flip_p),
        jitter=chance(config.jitter_p),
        jitter_factors=factors,
        jitter_order=torch.rand(batch, len(JITTER_OPS), generator=g).argsort(dim=1),
        blur=chance(config.blur_p),
        sigma=uniform(*config.blur_sigma),
        gray=chance(config.gray_p),
    )


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of float RGB [n,3,H,W] as [n,1,H,W] (ITU-R 601 weights, as torchvision)."""
    r, g, b = x.unbind(dim=1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(1)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    ratio = factor.view(-1, 1, 1, 1)
    return (ratio * x + (1 - ratio) * other).clamp(0, 1)


def _brightness(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return (x * f.view(-1, 1, 1, 1)).clamp(0, 1)


def _contrast(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return _blend(x, grayscale(x).mean(dim=(1, 2, 3), keepdim=True), f)


def _saturation(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return _blend(x, grayscale(x), f)


def _hue(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Rotate the HSV hue by ``f[i]`` turns. A hue shift keeps each pixel's max and min, so the result is
    ``min + chroma · ramp(hue + f)`` with the standard piecewise-linear hue ramps (no HSV round trip)."""
    r, g, b = x.unbind(dim=1)
    high, low = x.amax(dim=1), x.amin(dim=1)
    chroma = high - low
    safe = torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    hue = torch.where(
        high == r, (g - b) / safe, torch.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    hue6 = (hue + 6 * f.view(-1, 1, 1)).remainder(6.0).unsqueeze(1)
    centres = torch.tensor([3.0, 2.0, 4.0], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    signs = torch.tensor([1.0, -1.0, -1.0], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    offsets = torch.tensor([-1.0, 2.0, 2.0], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    ramp = (signs * (hue6 - centres).abs() + offsets).clamp(0, 1)
    return (low.unsqueeze(1) + chroma.unsqueeze(1) * ramp).clamp(0, 1)


_JITTER_FNS = (_brightness, _contrast, _saturation, _hue)


def colour_jitter(x: torch.Tensor, factors: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Jitter float RGB [n,3,H,W] in [0,1]: image i gets ops ``order[i]`` with ``factors[i]`` [4].

    Each op equals torchvision's ``adjust_brightness/contrast/saturation/hue`` on float images.
    """
    x = x.clone()
    device = x.device
    for step in range(len(JITTER_OPS)):
        for op, fn in enumerate(_JITTER_FNS):
            rows = torch.nonzero(order[:, step] == op).flatten()
            if rows.numel():
                rows_on = rows.to(device)
                x[rows_on] = fn(x[rows_on], factors[rows, op].to(device, x.dtype))
    return x


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, kernel: int) -> torch.Tensor:
    """Blur float [n,C,H,W] with a ``kernel``-tap Gaussian of std ``sigma[i]`` per image, reflect padding
    (as torchvision's ``gaussian_blur``)."""
    n, channels, height, width = x.shape
    taps = torch.arange(kernel, device=x.device, dtype=x.dtype) - (kernel - 1) / 2
    weights = torch.softmax(-(taps[None, :] ** 2) / (2 * sigma.to(x.device, x.dtype)[:, None] ** 2), dim=1)
    weights = weights.repeat_interleave(channels, dim=0)  # [n·C, k]
    half = kernel // 2
    flat = F.pad(x.reshape(1, n * channels, height, width), (half, half, half, half), mode="reflect")
    flat = F.conv2d(flat, weights.view(n * channels, 1, 1, kernel), groups=n * channels)
    flat = F.conv2d(flat, weights.view(n * channels, 1, kernel, 1), groups=n * channels)
    return flat.view(n, channels, height, width)


def occlusion_masks(landmarks: torch.Tensor, part: torch.Tensor, size: int, margin: float) -> torch.Tensor:
    """Bool [B,size,size]: the ellipse inscribed in each image's part box widened by ``margin`` px.

    ``landmarks`` float [B,68,2] (x, y) in pixels of a ``size`` image, pixel centres at integers;
    ``part`` int64 [B] index into :data:`PART_NAMES`. Images with non-finite part landmarks get none.
    """
    device = landmarks.device
    lo = torch.empty(landmarks.shape[0], 2, device=device, dtype=landmarks.dtype)
    hi = torch.empty_like(lo)
    for index, (first, stop) in enumerate(OCCLUSION_PARTS.values()):
        rows = (part == index).to(device)
        points = landmarks[:, first:stop]
        lo = torch.where(rows[:, None], points.amin(dim=1), lo)
        hi = torch.where(rows[:, None], points.amax(dim=1), hi)
    centre = (lo + hi) / 2
    axes = (hi - lo) / 2 + margin
    finite = torch.isfinite(centre).all(dim=1) & torch.isfinite(axes).all(dim=1)
    grid = torch.arange(size, device=device, dtype=landmarks.dtype)
    dx = (grid[None, None, :] - centre[:, 0, None, None]) / axes[:, 0, None, None]
    dy = (grid[None, :, None] - centre[:, 1, None, None]) / axes[:, 1, None, None]
    return (dx**2 + dy**2 <= 1) & finite[:, None, None]


def _as_tensors(
    images: np.ndarray | torch.Tensor, landmarks: np.ndarray | torch.Tensor, device: torch.device | str | None
) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    landmarks = torch.from_numpy(np.asarray(landmarks)) if isinstance(landmarks, np.ndarray) else landmarks
    if device is not None:
        images = images.to(device)
    if (
        images.dtype != torch.uint8
        or images.ndim != 4
        or images.shape[3] != 3
        or images.shape[1] != images.shape[2]
    ):
        raise ValueError(f"images must be uint8 RGB [B, S, S, 3], got {tuple(images.shape)} {images.dtype}")
    if landmarks.shape != (images.shape[0], 68, 2):
        raise ValueError(
            f"landmarks must be [B, 68, 2] crop pixels, B={images.shape[0]}, got {tuple(landmarks.shape)}"
        )
    return images, landmarks.to(images.device, torch.float32)


def apply_view(
    images: np.ndarray | torch.Tensor,
    landmarks: np.ndarray | torch.Tensor,
    params: ViewParams,
    config: ViewConfig,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Augment with given parameters. ``images`` uint8 [B,S,S,3] RGB, ``landmarks`` float [B,68,2]
    (x, y) crop pixels; runs on ``device`` (default: where ``images`` are). Returns float32
    [B,3,size,size], normalised."""
    images, landmarks = _as_tensors(images, landmarks, device)
    batch, stored = images.shape[0], images.shape[1]
    if params.crop_y.shape != (batch,):
        raise ValueError(f"params are for {params.crop_y.shape[0]} images, got {batch}")
    x = images.permute(0, 3, 1, 2).float().div(255)
    if stored != config.input_size:
        x = F.interpolate(x, size=(config.input_size,) * 2, mode="bilinear", antialias=True).clamp(0, 1)
        landmarks = (landmarks + 0.5) * (config.input_size / stored) - 0.5
    on = params.to(x.device)

    mask = occlusion_masks(landmarks, on.part, config.input_size, config.occlusion_margin * config.input_size)
    mask &= on.occlude[:, None, None]
    x = torch.where(mask[:, None], x.mean(dim=(2, 3), keepdim=True), x)

    span = torch.arange(config.size, device=x.device)
    ys = (on.crop_y[:, None] + span)[:, :, None]
    xs = (on.crop_x[:, None] + span)[:, None, :]
    x = x[torch.arange(batch, device=x.device)[:, None, None], :, ys, xs].permute(0, 3, 1, 2)
    x = torch.where(on.flip[:, None, None, None], x.flip(-1), x).contiguous()

    order = torch.where(params.jitter[:, None], params.jitter_order, -1)
    x = colour_jitter(x, params.jitter_factors, order)
    rows = torch.nonzero(params.blur).flatten()
    if rows.numel():
        x[rows.to(x.device)] = gaussian_blur(x[rows.to(x.device)], params.sigma[rows], config.blur_kernel)
    x = torch.where(on.gray[:, None, None, None], grayscale(x).expand_as(x), x)
    mean = torch.tensor(config.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(config.std, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(
    images: np.ndarray | torch.Tensor,
    landmarks: np.ndarray | torch.Tensor,
    config: ViewConfig,
    generator: torch.Generator | int,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """One view of each image: ``apply_view(images, landmarks, sample_params(B, config, generator))``.

    Example (the paper's pair of views of a batch)::

        view1, view2 = paper_views()
        g = torch.Generator().manual_seed(seed)
        a = augment(frames_a, landmarks_a, view1, g, device="cuda")   # [B, 3, 112, 112]
        p = augment(frames_p, landmarks_p, view2, g, device="cuda")
    """
    return apply_view(images, landmarks, sample_params(len(images), config, generator), config, device)
