"""Options of the generated sample corpora the tests share (see ``docs/sample-data.md``)."""

from __future__ import annotations

from fercl_cli.sample.corpus import SampleOptions

# The session corpus (``tests/conftest.py``): 3 pretraining identities × 2 clips × 4 s, 2 evaluation
# identities with 2 photos per class, 4 LFW photos per person; seed 0 (the default).
SAMPLE_OPTIONS = SampleOptions(
    identities=3, clips_per_identity=2, seconds=4.0, eval_identities=2, images_per_class=2, lfw_images=4
)
# A corpus generated in about a second: 2 identities × 1 clip × 1 s, 2 evaluation identities with one
# photo per class, 2 LFW photos per person, seed 7 (tests/sample pins the SHA-256 of its motion plans).
TINY_SAMPLE_OPTIONS = SampleOptions(
    identities=2,
    clips_per_identity=1,
    seconds=1.0,
    seed=7,
    eval_identities=2,
    images_per_class=1,
    lfw_images=2,
)
