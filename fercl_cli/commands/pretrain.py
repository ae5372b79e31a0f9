"""``fercl pretrain``: SimCLR with TimeAug, HardNeg, FaceSwap and MaskFN (one GPU, many, or the CPU)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from fercl_cli.choices import DESCRIPTOR_KINDS, DEVICES, MASK_FN_MODES, OPTIMIZERS, choice_help
from fercl_cli.train.archs import ARCH_HELP
from fercl_cli.train.config import PretrainConfig

D = PretrainConfig()


def pretrain(
    ctx: typer.Context,
    store: Path = typer.Argument(..., help="Face store written by 'fercl preprocess'."),
    out: Path = typer.Option(
        ..., "--out", help="Run directory (config.json, last.pt, metrics.jsonl, tensorboard/)."
    ),
    swaps: Path | None = typer.Option(
        None, "--swaps", help="Swap bank from 'fercl swap' (needed by --face-swap)."
    ),
    time_aug: bool = typer.Option(
        D.time_aug, "--time-aug/--no-time-aug", help="Positive = a nearby frame (TimeAug)."
    ),
    offset_weights: str = typer.Option(
        D.offset_weights,
        "--offset-weights",
        help="TimeAug offset weights: a uniform, b far-heavy, c near-heavy.",
    ),
    hard_neg: bool = typer.Option(
        D.hard_neg, "--hard-neg/--no-hard-neg", help="Far frames of the same clip join as negatives."
    ),
    face_swap: bool = typer.Option(
        D.face_swap, "--face-swap/--no-face-swap", help="Positives from the FaceSwap bank."
    ),
    swap_p: float = typer.Option(D.swap_p, "--swap-p", help="Probability that a positive is swapped."),
    swap_q: float = typer.Option(
        D.swap_q, "--swap-q", help="Probability that a hard-negative positive is swapped."
    ),
    mask_fn: str = typer.Option(D.mask_fn, "--mask-fn", help=f"{choice_help(MASK_FN_MODES)}."),
    mask_lambda: float = typer.Option(
        D.mask_lambda, "--mask-lambda", help="Weight of MaskFN's attraction term."
    ),
    mask_threshold: float = typer.Option(
        D.mask_threshold, "--mask-threshold", help="Descriptor cosine above which the threshold modes mask."
    ),
    descriptor: str = typer.Option(
        D.descriptor, "--descriptor", help=f"Descriptor kind MaskFN reads ({choice_help(DESCRIPTOR_KINDS)})."
    ),
    arch: str = typer.Option(
        D.arch,
        "--arch",
        help=f"Backbone: {ARCH_HELP} (resnet50: the paper's; resnet18-cifar: 3x3 stride-1 stem, no max-pool, "
        "for 32-64 px; smallcnn: 4-stage CNN, 256-d, for CPU runs).",
    ),
    size: int = typer.Option(
        D.size, "--size", help="Training crop size in pixels (random crop from the stored crops)."
    ),
    occlusion_p: float = typer.Option(
        D.occlusion_p, "--occlusion-p", help="Probability of the eye/mouth occlusion per image."
    ),
    batch_clips: int = typer.Option(
        D.batch_clips, "--batch-clips", help="Clips per step per process (4 images each with HardNeg)."
    ),
    epochs: int = typer.Option(D.epochs, "--epochs", help="Epochs (one item per clip per epoch)."),
    optimizer: str = typer.Option(
        D.optimizer, "--optimizer", help=f"{choice_help(OPTIMIZERS)} (adam: the paper's)."
    ),
    lr: float = typer.Option(D.lr, "--lr", help="Peak learning rate."),
    weight_decay: float = typer.Option(D.weight_decay, "--weight-decay", help="Weight decay."),
    temperature: float = typer.Option(D.temperature, "--temperature", help="InfoNCE temperature tau."),
    warmup_epochs: float = typer.Option(
        D.warmup_epochs, "--warmup-epochs", help="Linear warmup before the per-step cosine."
    ),
    amp: bool = typer.Option(
        D.amp, "--amp/--no-amp", help="Mixed precision on CUDA (bf16 where supported, else fp16)."
    ),
    channels_last: bool = typer.Option(
        D.channels_last, "--channels-last/--no-channels-last", help="NHWC memory format."
    ),
    compile_model: bool = typer.Option(D.compile, "--compile/--no-compile", help="torch.compile the model."),
    sync_bn: bool = typer.Option(
        D.sync_bn, "--sync-bn/--no-sync-bn", help="SyncBatchNorm across DDP processes."
    ),
    workers: int = typer.Option(
        D.workers, "--workers", help="DataLoader worker processes per training process."
    ),
    seed: int = typer.Option(D.seed, "--seed", help="Seed of sampling, views and initialisation."),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue the run in --out from its last checkpoint, with the options in its config.json "
        "(options given again override them; more --epochs extends the run).",
    ),
    max_steps: int | None = typer.Option(
        None, "--max-steps", help="Stop after this many steps (the schedule is unchanged)."
    ),
    device: str = typer.Option(D.device, "--device", help=f"{choice_help(DEVICES)}."),
    config_file: Path | None = typer.Option(
        None, "--config", help="TOML/YAML/JSON file of options; command-line options win."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Contrastive pretraining on a face store; every paper configuration is one command line.

    Example: fercl pretrain faces.h5 --out runs/timeaug-hardneg --arch resnet18 --epochs 20

    Several GPUs: torchrun --nproc-per-node 8 -m fercl_cli pretrain faces.h5 --out runs/all4 --swaps swaps.h5 --face-swap --mask-fn top1-other-clip
    """
    from fercl_cli import report
    from fercl_cli.space import disk_full_is_an_error
    from fercl_cli.train import config as config_lib

    names = {"compile_model": "compile", "store": "store", "out": "out"}
    explicit = {
        names.get(name, name): value
        for name, value in ctx.params.items()
        if name not in ("ctx", "resume", "config_file", "json_output")
        and (name in ("store", "out") or ctx.get_parameter_source(name).name == "COMMANDLINE")
    }
    explicit = {k: str(v) if isinstance(v, Path) else v for k, v in explicit.items()}
    file_values = config_lib.load_config_file(config_file) if config_file else {}
    saved = config_lib.saved_run_config(out) if resume else {}
    source = " or ".join(str(p) for p in (out / "config.json" if saved else None, config_file) if p)
    config = config_lib.resolve({**saved, **file_values}, explicit, source=source or "the config file")
    from fercl_cli.train.loop import pretrain as run  # torch: only once the options are sound

    main = os.environ.get("RANK", "0") == "0"
    changed = config_lib.changed_options(saved, config)
    if main and changed:
        report.err_console.print(
            "resuming with changed options: "
            + ", ".join(f"{k} {old!r} → {new!r}" for k, (old, new) in changed.items()),
            markup=False,
            highlight=False,
        )
    progress = report.TrainingProgress(enabled=main and not json_output)
    kept = f"the position is saved in {out}/last.pt; continue with --resume"
    with report.interruptible(progress, kept, show=main), disk_full_is_an_error(out):
        summary = run(config, on_event=progress.on_event, resume=resume)
    if not main:
        return
    if json_output:
        report.print_json(summary.__dict__)
        return
    report.console.print(report.run_summary_table(summary.__dict__))


def register(app: typer.Typer) -> None:
    app.command("pretrain")(pretrain)
