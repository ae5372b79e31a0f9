"""The factorised testbed profile of ``fercl sample`` (``--profile testbed``).

Built so that the paper's claim can be tested on it (see ``docs/sample-data.md``, "Testbed profile"):

- **People** are all new blends of several real faces with their own shape and skin tone
  (:mod:`fercl_cli.sample.people`); ``identities`` pretraining people, ``eval_identities`` held-out people.
- **Scenes** (background, clothing) and lighting are drawn **per clip** (per photo in the evaluation sets),
  independently of the person (:mod:`fercl_cli.sample.scenes`), so the background does not tell who it is.
- **Expressions** are long, strong segments: a clip is a chain of distinct expressions (neutral is one of
  them), each ramping up in 0.3–0.5 s, held ``hold`` seconds at peak intensity ``peak`` and ramping down,
  optionally with neutral gaps ``gap`` between them. The defaults are chosen so that the sampler's
  TimeAug pairs share the label and its HardNeg pairs do not (:mod:`fercl_cli.sample.gate`).
- **Evaluation sets** (AffectNet and FER2013 formats) hold the held-out people only, with train and test
  splits of different people; LFW holds ``lfw_images`` photos of every held-out person, each photo on its
  own background and clothing, for an identity probe across backgrounds.

Layout: ``voxceleb/`` (videos at ``size``², 25 fps, one clip per video; interval JPEGs at 25/6 fps, the same
rendered frames; ``vox1_meta.csv``; ``ground_truth.csv``), ``affectnet/``, ``fer2013/``, ``identities.csv``,
``lfw/``, ``sample.json`` (options, counts, the gate's numbers, generation time).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from fercl_cli.faces.types import FaceBackend
from fercl_cli.sample.corpus import at_least, raise_first
from fercl_cli.sample.expressions import EXPRESSIONS, FER2013_CODE
from fercl_cli.sample.identities import Identity
from fercl_cli.sample.lfw import LfwCounts
from fercl_cli.sample.motion import (
    FrameState,
    _drift,
    frame_states,
    head_motion,
    smoothstep,
    speech_track,
    still_state,
)
from fercl_cli.sample.render import View, render

PROFILE = "testbed"
SCENE_PER = ("clip", "identity")
AFFECTNET_TESTBED_VIEW = View(width=112, height=112, iod=22.75, eye_x=56.0, eye_y=49.0)


@dataclass(frozen=True)
class TestbedOptions:
    """What the testbed profile generates.

    Attributes:
        identities: pretraining people (VoxCeleb layout).
        eval_identities: held-out people (AffectNet, FER2013); half train, half test.
        clips_per_identity: clips per pretraining person (one clip per video id).
        seconds: clip length (25 fps).
        seed: the random seed.
        images_per_class: AffectNet/FER2013 photos per held-out person and class.
        lfw_images: LFW photos per held-out person, each with its own background and clothing (the identity
            probe then matches people across backgrounds).
        size: face-frame size in pixels (videos and interval JPEGs).
        hold: apex hold of an expression segment, seconds (min, max).
        gap: neutral gap between segments, seconds (0, 0 = segments follow each other).
        peak: peak intensity (min, max).
        scene_per: ``"clip"`` (the testbed) or ``"identity"`` (backgrounds tied to the person: a deliberately
            bad testbed that the gate must refuse).
    """

    __test__ = False  # not a pytest class

    identities: int = 96
    eval_identities: int = 32
    clips_per_identity: int = 2
    seconds: float = 20.0
    seed: int = 0
    images_per_class: int = 14
    lfw_images: int = 20
    size: int = 64
    hold: tuple[float, float] = (4.7, 6.7)
    gap: tuple[float, float] = (0.0, 0.0)
    peak: tuple[float, float] = (0.85, 1.0)
    scene_per: str = "clip"

    def check(self) -> None:
        """Raise :class:`FerclError` naming the option at fault."""
        raise_first(
            [
                at_least("identities", self.identities, 2),
                at_least("eval-identities", self.eval_identities, 2, " (one train, one test person)"),
                at_least(
                    "clips-per-identity",
                    self.clips_per_identity,
                    2,
                    " in the testbed (the gate cross-validates across clips)",
                ),
                (
                    not math.isfinite(self.seconds) or self.seconds < 3.5,
                    f"--seconds must be at least 3.5 in the testbed (HardNeg needs frames 3 s apart), got {self.seconds}",
                ),
                (self.seed < 0, f"--seed must be >= 0, got {self.seed}"),
                at_least("images-per-class", self.images_per_class, 1),
                at_least("lfw-images", self.lfw_images, 2),
                (
                    self.size < 32 or self.size > 256 or self.size % 2,
                    f"--size must be an even number of pixels in 32..256, got {self.size}",
                ),
                (
                    self.scene_per not in SCENE_PER,
                    f"scene_per must be one of {SCENE_PER}, got {self.scene_per!r}",
                ),
                (not 0 < self.hold[0] <= self.hold[1], f"hold must be 0 < min <= max, got {self.hold}"),
                (not 0 <= self.gap[0] <= self.gap[1], f"gap must be 0 <= min <= max, got {self.gap}"),
                (not 0 < self.peak[0] <= self.peak[1] <= 1, f"peak must be in (0, 1], got {self.peak}"),
            ]
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready options (tuples as lists)."""
        return {
            "profile": PROFILE,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()},
        }


def frame_view(size: int) -> View:
    """The testbed's face framing at ``size``² (the interval-face framing of the default profile, scaled)."""
    s = size / 224.0
    return View(width=size, height=size, iod=50.0 * s, eye_x=size / 2, eye_y=98.0 * s)


def expression_timeline(
    rng: np.random.Generator, n_frames: int, fps: float, options: TestbedOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame expression names and intensities: a chain of distinct expressions (all eight, neutral
    included, in random order, repeating if the clip is long), each ramping up 0.3–0.5 s, held
    ``options.hold`` s at ``options.peak`` and ramping down 0.3–0.5 s, with ``options.gap`` s of neutral
    between them. The clip starts inside a segment. Frames at intensity 0 are neutral."""
    names = np.full(n_frames, "neutral", dtype=object)
    intensity = np.zeros(n_frames)
    order = list(rng.permutation(EXPRESSIONS))
    duration = n_frames / fps
    t = -rng.uniform(0.0, options.hold[0])
    k = 0
    while t < duration:
        onset, hold, offset = rng.uniform(0.3, 0.5), rng.uniform(*options.hold), rng.uniform(0.3, 0.5)
        peak = rng.uniform(*options.peak)
        start, end = t, t + onset + hold + offset
        frames = np.arange(max(0, int(np.ceil(start * fps))), min(n_frames, int(np.ceil(end * fps))))
        ts = frames / fps
        name = order[k % len(order)]
        if name != "neutral":
            rise = smoothstep((ts - start) / onset)
            fall = smoothstep((end - ts) / offset)
            names[frames] = name
            intensity[frames] = peak * np.minimum(rise, fall)
        k += 1
        t = end + rng.uniform(*options.gap)
    names[intensity <= 0.0] = "neutral"
    return names, intensity


def plan_testbed_clip(
    rng: np.random.Generator,
    n_frames: int,
    fps: float,
    options: TestbedOptions,
    light_rng: np.random.Generator | None = None,
) -> list[FrameState]:
    """The states of one testbed clip: :func:`expression_timeline`, talking, head motion, and lighting:
    base gain 0.75–1.2, base left-right gradient ±0.2, tint 0.88–1.12 per channel drawn from ``light_rng``
    (the scene's generator, so light goes with the scene; default ``rng``), plus drifts drawn from ``rng``."""
    light_rng = rng if light_rng is None else light_rng
    base_gain, base_gradient = light_rng.uniform(0.75, 1.2), light_rng.uniform(-0.2, 0.2)
    tint = light_rng.uniform(0.88, 1.12, size=3)
    t = np.arange(n_frames) / fps
    names, intensity = expression_timeline(rng, n_frames, fps, options)
    speech = speech_track(rng, t, (0.03, 0.06))
    head = head_motion(rng, t, (0.1, 0.06))
    gain = base_gain + _drift(rng, t, 0.08, (3.0, 9.0))
    gradient = base_gradient + _drift(rng, t, 0.1, (3.0, 9.0))
    return frame_states(names, intensity, speech, head, gain, gradient, tint)


def total_work(options: TestbedOptions) -> int:
    """People to make plus frames and photos to render, for a progress bar."""
    from fercl_cli.sample.voxceleb import frames_per_clip

    frames = options.identities * options.clips_per_identity * frames_per_clip(options.seconds)
    stills = options.eval_identities * (
        options.images_per_class * (len(EXPRESSIONS) + len(FER2013_CODE)) + options.lfw_images
    )
    return options.identities + options.eval_identities + frames + stills


def _scene_rng(options: TestbedOptions, group: int, person: int, item: int) -> np.random.Generator:
    if options.scene_per == "identity":
        return np.random.default_rng([options.seed, 13, group, person])
    return np.random.default_rng([options.seed, 13, group, person, item])


def _write_voxceleb(
    root: Path, people: list[Identity], options: TestbedOptions, tick: Callable[[int], None]
) -> dict[str, int]:
    import cv2
    import pandas as pd

    from fercl_cli.sample.records import format_landmarks, state_columns, write_jpeg
    from fercl_cli.sample.scenes import composite, head_mask, random_scene
    from fercl_cli.sample.voxceleb import (
        FPS,
        INTERVAL_STEP,
        _video_id,
        _write_meta,
        frames_per_clip,
        voxceleb_id,
    )

    base = root / "voxceleb"
    base.mkdir(parents=True, exist_ok=True)
    _write_meta(base / "vox1_meta.csv", people)
    n_frames = frames_per_clip(options.seconds)
    view = frame_view(options.size)
    mask = head_mask()
    rows: list[dict[str, object]] = []
    clips = interval_frames = 0
    for person, identity in enumerate(people):
        ident = voxceleb_id(person)
        layout_rng = np.random.default_rng([options.seed, 11, person])
        for clip_index in range(options.clips_per_identity):
            video = _video_id(layout_rng)
            offset = int(layout_rng.integers(100, 2000))
            scene_rng = _scene_rng(options, 0, person, clip_index)
            scene = random_scene(scene_rng)
            shown_portrait = composite(identity.portrait, scene, mask)
            states = plan_testbed_clip(
                np.random.default_rng([options.seed, 12, person, clip_index]),
                n_frames,
                FPS,
                options,
                scene_rng,
            )
            mp4 = base / "videos" / ident / video / "00001.mp4"
            mp4.parent.mkdir(parents=True, exist_ok=True)
            frames_dir = base / "unzippedIntervalFaces" / "data" / identity.name / "1.6" / video / "1"
            writer = cv2.VideoWriter(
                str(mp4), cv2.VideoWriter_fourcc(*"mp4v"), float(FPS), (view.width, view.height)
            )
            if not writer.isOpened():
                raise OSError(f"OpenCV could not open an mp4v video writer for {mp4}")
            described = scene.describe()
            try:
                for frame, state in enumerate(states):
                    shown = render(shown_portrait, state, view)
                    writer.write(cv2.cvtColor(shown.image, cv2.COLOR_RGB2BGR))
                    in_interval = frame % INTERVAL_STEP == 0
                    landmarks = format_landmarks(shown.landmarks)
                    if in_interval:
                        write_jpeg(frames_dir / f"{offset + frame:07d}.jpg", shown.image)
                        interval_frames += 1
                    rows.append(
                        {
                            "voxceleb_id": ident,
                            "video_id": video,
                            "clip": "00001",
                            "clip_id": f"{ident}/{video}/00001",
                            "frame": frame,
                            "frame_number": offset + frame,
                            "time_s": round(frame / FPS, 4),
                            "interval_frame": int(in_interval),
                            "split": "pretraining",
                            **state_columns(identity, state),
                            **described,
                            "landmarks": landmarks,
                            "interval_landmarks": landmarks if in_interval else "",
                        }
                    )
                    tick(1)
            finally:
                writer.release()
            clips += 1
    pd.DataFrame(rows).to_csv(base / "ground_truth.csv", index=False)
    return {
        "identities": len(people),
        "videos": clips,
        "clips": clips,
        "frames": len(rows),
        "interval_frames": interval_frames,
    }


def split_people(people: list[Identity], seed: int) -> dict[str, str]:
    """Held-out person name → ``"train"`` or ``"test"``: a seeded shuffle, the first half (rounded down) train,
    the rest test (so both are non-empty for two or more people)."""
    order = np.random.default_rng([seed, 14]).permutation(len(people))
    n_train = len(people) // 2
    return {people[i].name: ("train" if rank < n_train else "test") for rank, i in enumerate(order)}


def fer_usage(people: list[Identity], split: dict[str, str]) -> dict[str, str]:
    """FER2013 Usage per held-out person: the train people are Training; the test people alternate
    PublicTest (reported) and PrivateTest (selection), in name order."""
    tests = sorted(p.name for p in people if split[p.name] == "test")
    usage = {p.name: "Training" for p in people if split[p.name] == "train"}
    for k, name in enumerate(tests):
        usage[name] = "PublicTest" if k % 2 == 0 else "PrivateTest"
    return usage


def _write_eval(
    root: Path, people: list[Identity], options: TestbedOptions, tick: Callable[[int], None]
) -> tuple[dict[str, dict[str, int]], dict[str, str], dict[str, str]]:
    import cv2
    import pandas as pd

    from fercl_cli.sample.affectnet import affectnet_row, image_path, write_tables
    from fercl_cli.sample.fer2013 import FER_EXPRESSIONS, FER_RENDER_VIEW, FER_SIZE
    from fercl_cli.sample.records import state_columns, write_jpeg
    from fercl_cli.sample.scenes import composite, head_mask, random_scene

    split = split_people(people, options.seed)
    usage = fer_usage(people, split)
    mask = head_mask()
    affect_rows: list[dict[str, object]] = []
    fer_rows: list[dict[str, object]] = []
    fer_truth: list[dict[str, object]] = []
    images = root / "affectnet" / "Manually_Annotated_Images"
    for person, identity in enumerate(people):
        rng = np.random.default_rng([options.seed, 21, person])
        item = 0
        for dataset, expressions in (("affectnet", EXPRESSIONS), ("fer2013", FER_EXPRESSIONS)):
            for expression in expressions:
                for _ in range(options.images_per_class):
                    intensity = 0.0 if expression == "neutral" else float(rng.uniform(*options.peak))
                    state = still_state(rng, expression, intensity)
                    scene = random_scene(_scene_rng(options, 1, person, item))
                    item += 1
                    portrait = composite(identity.portrait, scene, mask)
                    truth = state_columns(identity, state)
                    if dataset == "affectnet":
                        shown = render(portrait, state, AFFECTNET_TESTBED_VIEW)
                        index = len(affect_rows)
                        relative = image_path(f"{options.seed}/testbed/{identity.name}/{index}", index)
                        write_jpeg(images / relative, shown.image)
                        part = "validation" if split[identity.name] == "test" else "training"
                        affect_rows.append(
                            {**affectnet_row(relative, shown, truth, part), **scene.describe()}
                        )
                    else:
                        shown = render(portrait, state, FER_RENDER_VIEW)
                        grey = cv2.cvtColor(shown.image, cv2.COLOR_RGB2GRAY)
                        small = cv2.resize(grey, (FER_SIZE, FER_SIZE), interpolation=cv2.INTER_AREA)
                        fer_rows.append(
                            {
                                "emotion": FER2013_CODE[expression],
                                "pixels": " ".join(str(int(v)) for v in small.reshape(-1)),
                                "Usage": usage[identity.name],
                            }
                        )
                        fer_truth.append(
                            {
                                "row": len(fer_truth),
                                "Usage": usage[identity.name],
                                **truth,
                                **scene.describe(),
                            }
                        )
                    tick(1)
    affect = write_tables(root / "affectnet", affect_rows)
    (root / "fer2013").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(fer_rows).to_csv(root / "fer2013" / "fer2013.csv", index=False)
    pd.DataFrame(fer_truth).to_csv(root / "fer2013" / "ground_truth.csv", index=False)
    fer_counts = pd.Series([r["Usage"] for r in fer_rows]).value_counts()
    counts = {
        "affectnet": {
            "training": int((affect["split"] == "training").sum()),
            "validation": int((affect["split"] == "validation").sum()),
        },
        "fer2013": {
            "training": int(fer_counts.get("Training", 0)),
            "public_test": int(fer_counts.get("PublicTest", 0)),
            "private_test": int(fer_counts.get("PrivateTest", 0)),
        },
    }
    return counts, split, usage


def _write_lfw(
    root: Path, people: list[Identity], options: TestbedOptions, tick: Callable[[int], None]
) -> LfwCounts:
    """LFW photos of the held-out people, each photo on its own scene (group 2 of the scene seeds)."""
    from fercl_cli.sample.lfw import write_lfw
    from fercl_cli.sample.scenes import composite, head_mask, random_scene

    mask = head_mask()

    def dress(person: int, number: int) -> tuple[np.ndarray, dict[str, object]]:
        scene = random_scene(_scene_rng(options, 2, person, number))
        return composite(people[person].portrait, scene, mask), scene.describe()

    return write_lfw(root, people, options.lfw_images, options.seed, tick, dress)


def generate_testbed(
    root: str | Path,
    options: TestbedOptions,
    progress: Callable[[str, int, int], None] | None = None,
    backend: FaceBackend | None = None,
) -> dict[str, object]:
    """Write the testbed under ``root`` and run the gate on it; returns the manifest (also ``sample.json``).

    The gate's result is in ``manifest["gate"]``; this function does not raise when the gate fails (the
    CLI does, after printing it), so a failed testbed can still be inspected.

    Raises:
        FerclError: bad options, ``root`` unusable, fewer than two real faces, or a full disk.
    """
    from fercl_cli.sample.corpus import MANIFEST, _remove_outputs, prepare_output
    from fercl_cli.space import is_disk_full, no_space_error

    options.check()
    root = Path(root)
    prepare_output(root)
    try:
        manifest = _generate(root, options, progress, backend)
    except (OSError, RuntimeError) as exc:
        if not is_disk_full(exc):
            raise
        _remove_outputs(root)
        raise no_space_error(root, resumes=False) from None
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _generate(
    root: Path,
    options: TestbedOptions,
    progress: Callable[[str, int, int], None] | None,
    backend: FaceBackend | None,
) -> dict[str, object]:
    import pandas as pd

    from fercl_cli.sample.corpus import Ticker, real_faces
    from fercl_cli.sample.gate import run_gate
    from fercl_cli.sample.people import make_person
    from fercl_cli.sample.voxceleb import voxceleb_id

    started = time.monotonic()
    tick = Ticker(total_work(options), progress)
    tick(0)
    faces = real_faces(backend)
    reals, backend, notes = faces.identities, faces.backend, list(faces.notes)
    tick.stage = "people"

    def make_people(count: int, group: int, prefix: str) -> list[Identity]:
        """``count`` new people named ``<prefix>001``…, person ``i`` drawn from seed (seed, 10, group, i)."""
        made = []
        for i in range(count):
            rng = np.random.default_rng([options.seed, 10, group, i])
            made.append(make_person(reals, rng, f"{prefix}{i + 1:03d}", backend))
            tick(1)
        return made

    pretraining = make_people(options.identities, 0, "Testbed_P")
    heldout = make_people(options.eval_identities, 1, "Heldout_H")
    tick.stage = "voxceleb"
    vox = _write_voxceleb(root, pretraining, options, tick)
    tick.stage = "eval sets"
    eval_counts, split, usage = _write_eval(root, heldout, options, tick)
    tick.stage = "lfw"
    lfw = _write_lfw(root, heldout, options, tick)
    rows = [
        {
            "name": p.name,
            "group": "pretraining",
            "kind": p.kind,
            "gender": p.gender,
            "nationality": p.nationality,
            "source": p.source,
            "voxceleb_id": voxceleb_id(i),
            "eval_split": "",
            "fer2013_usage": "",
        }
        for i, p in enumerate(pretraining)
    ] + [
        {
            "name": p.name,
            "group": "evaluation",
            "kind": p.kind,
            "gender": p.gender,
            "nationality": p.nationality,
            "source": p.source,
            "voxceleb_id": "",
            "eval_split": split[p.name],
            "fer2013_usage": usage[p.name],
        }
        for p in heldout
    ]
    pd.DataFrame(rows).to_csv(root / "identities.csv", index=False)
    generation_s = time.monotonic() - started
    tick.stage = "gate"
    tick(0)
    gate = run_gate(root)
    notes.append(
        "testbed: every person is a new blend of the real faces (pretraining and held-out people share real "
        f"parents: only {len(reals)} real faces exist); RAF-DB is not written; LFW holds the held-out people, "
        "each photo with its own background"
    )
    return {
        "profile": PROFILE,
        "options": options.to_dict(),
        "real_faces": len(reals),
        "pretraining_identities": [p.name for p in pretraining],
        "evaluation_identities": {
            "train": sorted(n for n, s in split.items() if s == "train"),
            "test": sorted(n for n, s in split.items() if s == "test"),
        },
        "counts": {"voxceleb": vox, **eval_counts, "lfw": asdict(lfw)},
        "paths": {
            "voxceleb_videos": "voxceleb/videos",
            "voxceleb_frames": "voxceleb/unzippedIntervalFaces/data",
            "voxceleb_meta": "voxceleb/vox1_meta.csv",
            "voxceleb_ground_truth": "voxceleb/ground_truth.csv",
            "affectnet": "affectnet",
            "fer2013": "fer2013/fer2013.csv",
            "lfw_data_home": "lfw",
            "identities": "identities.csv",
        },
        "sources": faces.sources(),
        "generation_seconds": round(generation_s, 1),
        "gate": gate.to_dict(),
        "notes": notes,
    }


def with_overrides(options: TestbedOptions, **changes: object) -> TestbedOptions:
    """``options`` with ``changes`` (None values ignored)."""
    return replace(options, **{k: v for k, v in changes.items() if v is not None})
