from collections import Counter

import numpy as np

from fercl_cli.store.descriptors import write_descriptors
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.summary import summarize
from tests.factories.clips import clip_specs, make_frames, write_clips


def test_summary_counts_everything(tmp_path):
    specs = clip_specs(14)
    path = tmp_path / "faces.h5"
    write_clips(path, specs, config={"min_face": 40})
    frames = sum(spec.frames for spec in specs)
    write_descriptors(path, "geometry", np.zeros((frames, 6)), {"version": 1})
    summary = summarize(FaceStore(path))
    assert summary["frames"] == frames and summary["clips"] == 14
    assert summary["empty_clips"] == sum(spec.frames == 0 for spec in specs) == 2
    assert summary["identities"] == 5 and summary["videos"] == len({spec.video for spec in specs})
    failures = [f for spec in specs for f in spec.failures]
    assert summary["failures"] == len(failures)
    assert summary["failures_by_stage"] == {"decode": 2, "detect": sum(f.stage == "detect" for f in failures)}
    labels = [label for spec in specs if spec.frames for label in make_frames(spec).detector]
    assert summary["detector_counts"] == Counter(labels)
    assert summary["crop_size"] == 16 and summary["encoding"] == "raw" and summary["schema_version"] == 1
    assert summary["disk_bytes"] == path.stat().st_size and summary["config"] == {"min_face": 40}
    assert summary["descriptors"]["geometry"]["dim"] == 6
    assert summary["descriptors"]["geometry"]["attrs"]["version"] == 1
