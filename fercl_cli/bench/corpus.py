"""The generated sample corpus the benchmarks run on (made once, reused)."""

from __future__ import annotations

from pathlib import Path

from fercl_cli.sample.corpus import MANIFEST, SampleOptions, generate_sample


def bench_corpus(
    root: str | Path, identities: int = 8, clips_per_identity: int = 3, seconds: float = 6.0
) -> Path:
    """A sample corpus under ``root`` (generated when absent); returns ``root``."""
    root = Path(root)
    if not (root / MANIFEST).exists():
        options = SampleOptions(identities=identities, clips_per_identity=clips_per_identity, seconds=seconds)
        generate_sample(root, options)
    return root
