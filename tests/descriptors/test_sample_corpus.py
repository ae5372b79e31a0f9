"""On the sample corpus (tests/conftest.py), geometry descriptors' nearest neighbours in other clips share
the expression more often than the identity."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.descriptors.neighbours import neighbour_rates
from fercl_cli.store.reader import FaceStore

runner = CliRunner()


@pytest.mark.slow
def test_geometry_neighbours_share_expression_more_often_than_identity(sample_dir, tmp_path):
    store_path = tmp_path / "faces.h5"
    for args in (
        [
            "preprocess",
            "voxceleb",
            str(sample_dir / "voxceleb"),
            "--layout",
            "frames",
            "--out",
            str(store_path),
        ],
        ["describe", str(store_path)],
    ):
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
    store = FaceStore(store_path)
    clip = store.column("clip")
    identity = store.clip_identity[clip]
    frames = pd.DataFrame(
        {
            "voxceleb_id": np.array(store.identity_names)[identity],
            "video_id": np.array(store.video_names)[store.clip_video[clip]],
            "frame_number": store.column("frame_number"),
        }
    )
    truth = pd.read_csv(sample_dir / "voxceleb" / "ground_truth.csv", dtype={"clip": str})
    labelled = frames.merge(truth[["voxceleb_id", "video_id", "frame_number", "expression"]], how="left")
    assert labelled["expression"].notna().all()
    expression = pd.factorize(labelled["expression"])[0]
    values = store.descriptors("geometry").astype(np.float32)
    rates = neighbour_rates(values, np.abs(values).sum(axis=1) > 0, expression, identity, exclude=clip)
    assert rates.frames == store.n_frames
    assert rates.expression > rates.identity
    assert rates.expression > 2 * rates.chance_expression
