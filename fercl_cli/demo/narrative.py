"""The plain sentences printed under the demo's results table (what the numbers are, and what they are
not) and the commands to run next."""

from __future__ import annotations

from typing import Any

from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import DemoProfile
from fercl_cli.demo.table import is_better


def explanations(
    rows: list[dict[str, Any]], profile: DemoProfile, sample: dict[str, Any], pretraining: dict[str, Any]
) -> list[str]:
    """Plain sentences under the final table: what the numbers are, and what they are not.

    ``sample``: the sample stage's details (options, counts); ``pretraining``: the pretrain stage's
    details (:func:`learning_curve` entries)."""
    vox = sample["counts"]["voxceleb"]
    expression = [row for row in rows if row["better"] == "higher"]
    wins = [is_better(row) for row in expression]
    lfw = next(row for row in rows if row["task"] == "lfw")
    lfw_better = is_better(lfw)
    smallest = max(1, min(row["test_rows"] for row in rows if row["metric"] == "accuracy"))
    accuracy, chance = pretraining.get("contrastive_accuracy"), pretraining["chance_accuracy"]
    learned = (
        "Pretraining could not be measured (no steps logged)."
        if accuracy is None
        else f"Pretraining: in its last epoch the network picked out a view's positive among the batch "
        f"{100 * accuracy:.0f} % of the time (chance {100 * chance:.0f} %)"
        + (
            "; it barely learned in this budget. With FaceSwap the positive is another person's head around "
            "the same inner face, a much harder match than SimCLR's; the paper trained 300-500 epochs on "
            "153k clips with 512 images per step."
            if accuracy < 2 * chance
            else "."
        )
    )
    lines = [
        f"The data are synthetic: {vox['identities']} people animated from a few real photographs "
        f"({vox['clips']} clips), and the evaluation sets hold {sample['options']['eval_identities']} other people. "
        "The numbers show that every stage works on this machine, not what fercl reaches on real data: the "
        "paper's AffectNet results (e.g. F1 59.3 % for all four strategies) need VoxCeleb1 and hundreds of GPU epochs.",
        f"Expression rows (higher is better): the pretrained checkpoint beats the random-init floor on "
        f"{sum(w is True for w in wins)} of {len(wins)} measures after {profile.epochs} epochs on {vox['clips']} clips; "
        "'chance' is always guessing the most frequent class (0 for a CCC)."
        + (
            " A randomly initialised ResNet is a strong baseline for a linear probe on a few hundred photos; "
            "beating it takes far more pretraining than a demo affords."
            if sum(w is True for w in wins) * 2 < len(wins)
            else ""
        ),
        "LFW identity accuracy: LOWER is better. An expression representation should carry little identity, so "
        "a nearest-neighbour identity classifier on its features should do badly; here the pretrained "
        + (
            "checkpoint leaks less identity than random init."
            if lfw_better
            else "checkpoint does not (yet) leak less identity than random init."
            if lfw_better is False
            else "checkpoint could not be compared."
        ),
        "The test sets are small ("
        + ", ".join(f"{row['short']}: {row['test_rows']}" for row in rows if row["metric"] == "accuracy")
        + f" photos): one photo moves an accuracy by {100 / smallest:.1f} points or more, so single-run "
        "differences of a few points are noise; `fercl demo --ablation` repeats runs over seeds.",
        learned,
        "Protocols: frozen backbone features; linear probes (logistic / ridge regression, regularisation chosen "
        "on held-out training rows) and LFW 1-nearest-neighbour on a 70/30 split. 'fercl evaluate --protocol "
        "paper' runs the paper's fine-tuning instead.",
    ]
    return lines


def next_steps(layout: Layout, profile: DemoProfile) -> list[str]:
    """Commands to run next, on the user's own data, and the ablation on this sample."""
    return [
        "fercl preprocess voxceleb /data/voxceleb1 --out faces.h5 --workers 8 --encoding jpeg",
        "fercl swap faces.h5 --out swaps.h5 --workers 8 && fercl describe faces.h5",
        "fercl pretrain faces.h5 --out runs/all4 --swaps swaps.h5 --face-swap --mask-fn top1-other-clip --arch resnet50",
        "fercl evaluate --task affectnet --checkpoint runs/all4 --data /data/AffectNet --protocol paper --seeds 1,2,3 --out affectnet.json",
        f"fercl demo --ablation --dir {layout.root.parent}{' --quick' if profile.name == 'quick' else ''}   "
        "(the paper's configurations in miniature, on this sample)",
    ]
