"""Shared fixtures: one small sample corpus, generated once per test session, for every stage's tests.

``sample_dir`` is the corpus root (see ``docs/sample-data.md``): ``voxceleb/`` (3 pretraining identities ×
2 clips × 4 s at 25 fps: 600 video frames, 102 interval-face JPEGs), ``affectnet/``, ``fer2013/`` and
``rafdb/``, ``lfw/`` (2 evaluation identities; LFW has 4 photos per person), each with ``ground_truth.csv``. Treat it
as read-only: copy what a test modifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fercl_cli.sample.corpus import SampleSummary
from tests.factories.corpus import SAMPLE_OPTIONS


@pytest.fixture(scope="session")
def sample_corpus(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    """The summary of the session's sample corpus (generated on first use, about 10 s on 2 cores)."""
    from fercl_cli.sample.corpus import generate_sample

    return generate_sample(tmp_path_factory.mktemp("sample") / "corpus", SAMPLE_OPTIONS)


@pytest.fixture(scope="session")
def sample_dir(sample_corpus: SampleSummary) -> Path:
    """Root folder of the session's sample corpus (read-only by convention)."""
    return Path(sample_corpus.root)
