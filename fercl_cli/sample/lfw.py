"""Face photos in scikit-learn's LFW layout, loadable offline by ``fetch_lfw_people`` and ``fetch_lfw_pairs``.

Under ``<root>/lfw/lfw_home/``: ``lfw_funneled/<Name>/<Name>_0001.jpg`` … (250×250 colour, the face where
LFW's funneled images have it, so scikit-learn's default crop ``slice_=(slice(70, 195), slice(78, 172))``
holds it), and the pair lists ``pairsDevTrain.txt``, ``pairsDevTest.txt`` and ``pairs.txt`` in LFW's format
(first line a count or ``folds<TAB>pairs``; same-person lines ``name<TAB>i<TAB>j``, different-person lines
``name1<TAB>i<TAB>name2<TAB>j``, 1-based image numbers). Load with
``fetch_lfw_people(data_home=<root>/lfw, download_if_missing=False, min_faces_per_person=...)``.

Pairs: all same-person pairs are shuffled and halved into DevTrain and DevTest, each with as many
different-person pairs; ``pairs.txt`` holds two folds (the DevTrain and the DevTest pairs, cut to equal
size). ``<root>/lfw/ground_truth.csv`` has one row per image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from fercl_cli.sample.expressions import EXPRESSIONS
from fercl_cli.sample.identities import Identity
from fercl_cli.sample.motion import still_state
from fercl_cli.sample.records import format_landmarks, state_columns, write_jpeg
from fercl_cli.sample.render import View, render

LFW_VIEW = View(width=250, height=250, iod=43.0, eye_x=125.0, eye_y=113.0)
# Everyday photos: mostly neutral or smiling.
_EXPRESSION_WEIGHTS = np.array([0.35, 0.35] + [0.3 / 6] * 6)


@dataclass(frozen=True)
class LfwCounts:
    """People, images and pairs (same + different) in DevTrain, DevTest and pairs.txt."""

    people: int
    images: int
    train_pairs: int
    test_pairs: int
    fold_pairs: int


def _mismatched(rng: np.random.Generator, names: list[str], per_person: int, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        a, b = rng.choice(len(names), size=2, replace=False)
        i, j = rng.integers(1, per_person + 1, size=2)
        lines.append(f"{names[a]}\t{i}\t{names[b]}\t{j}")
    return lines


def _write_pairs(home: Path, names: list[str], per_person: int, seed: int) -> tuple[int, int, int]:
    rng = np.random.default_rng([seed, 6])
    matched = [f"{name}\t{i}\t{j}" for name in names for i, j in combinations(range(1, per_person + 1), 2)]
    matched = [matched[k] for k in rng.permutation(len(matched))]
    train, test = matched[: len(matched) // 2], matched[len(matched) // 2 :]
    train_pairs = train + _mismatched(rng, names, per_person, len(train))
    test_pairs = test + _mismatched(rng, names, per_person, len(test))
    (home / "pairsDevTrain.txt").write_text("\n".join([str(len(train)), *train_pairs]) + "\n")
    (home / "pairsDevTest.txt").write_text("\n".join([str(len(test)), *test_pairs]) + "\n")
    fold = min(len(train), len(test))
    folds = [
        *train[:fold],
        *train_pairs[len(train) : len(train) + fold],
        *test[:fold],
        *test_pairs[len(test) : len(test) + fold],
    ]
    (home / "pairs.txt").write_text("\n".join([f"2\t{fold}", *folds]) + "\n")
    return len(train_pairs), len(test_pairs), 4 * fold


def write_lfw(
    root: Path,
    identities: Sequence[Identity],
    per_person: int,
    seed: int,
    tick: Callable[[int], None],
    dress: Callable[[int, int], tuple[np.ndarray, dict[str, object]]] | None = None,
) -> LfwCounts:
    """Write ``per_person`` photos of every identity (at least two people, two photos each) to ``root/lfw``.

    ``dress(person_index, photo_number)`` → (the portrait to render, extra ground-truth columns) gives each
    photo its own background and clothing (the testbed); by default every photo shows ``identity.portrait``.
    """
    import pandas as pd

    if len(identities) < 2 or per_person < 2:
        raise ValueError("LFW pairs need at least two people with two photos each")
    home = root / "lfw" / "lfw_home"
    folder = home / "lfw_funneled"
    rng = np.random.default_rng([seed, 5])
    rows: list[dict[str, object]] = []
    for person, identity in enumerate(identities):
        for number in range(1, per_person + 1):
            portrait, extra = dress(person, number) if dress is not None else (identity.portrait, {})
            expression = str(rng.choice(EXPRESSIONS, p=_EXPRESSION_WEIGHTS))
            intensity = 0.0 if expression == "neutral" else float(rng.uniform(0.3, 1.0))
            state = still_state(rng, expression, intensity)
            shown = render(portrait, state, LFW_VIEW)
            relative = f"{identity.name}/{identity.name}_{number:04d}.jpg"
            write_jpeg(folder / relative, shown.image)
            rows.append(
                {
                    "file": relative,
                    **state_columns(identity, state),
                    "landmarks": format_landmarks(shown.landmarks),
                    **extra,
                }
            )
            tick(1)
    train, test, folds = _write_pairs(home, [i.name for i in identities], per_person, seed)
    pd.DataFrame(rows).to_csv(root / "lfw" / "ground_truth.csv", index=False)
    return LfwCounts(
        people=len(identities), images=len(rows), train_pairs=train, test_pairs=test, fold_pairs=folds
    )
