import json
import shutil

import h5py
from typer.testing import CliRunner

from fercl_cli import cli
from fercl_cli.store.reader import FaceStore
from tests.factories.clips import clip_specs, write_clips

runner = CliRunner()


def test_validate_exit_codes_and_json(tmp_path):
    path = tmp_path / "faces.h5"
    write_clips(path, clip_specs(5))
    result = runner.invoke(cli.app, ["store", "validate", str(path)])
    assert result.exit_code == 0 and "ok" in result.output
    broken = tmp_path / "broken.h5"
    shutil.copy(path, broken)
    with h5py.File(broken, "r+", locking=False) as h5:
        h5.attrs["committed_rows"] = 999
    result = runner.invoke(cli.app, ["store", "validate", str(broken), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["ok"] is False and any("committed counter" in problem for problem in payload["problems"])
    result = runner.invoke(cli.app, ["store", "validate", str(tmp_path / "absent.h5")])
    assert result.exit_code == 2 and "no such face store" in result.output


def test_merge_joins_shards(tmp_path):
    specs = clip_specs(8)
    shards = [tmp_path / "a.h5", tmp_path / "b.h5"]
    write_clips(shards[0], specs[::2])
    write_clips(shards[1], specs[1::2])
    out = tmp_path / "merged.h5"
    result = runner.invoke(cli.app, ["store", "merge", str(out), *map(str, shards), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["clips"] == 8 and payload["frames"] == sum(spec.frames for spec in specs)
    assert FaceStore(out).n_clips == 8
    again = runner.invoke(cli.app, ["store", "merge", str(tmp_path / "c.h5"), *map(str, shards)])
    assert again.exit_code == 0 and "clips" in again.output and "identities" in again.output
    assert f"merging frames: {payload['frames']}/{payload['frames']}" in again.stderr
    assert "merging frames" not in result.stderr
    overlap = runner.invoke(
        cli.app, ["store", "merge", str(tmp_path / "d.h5"), str(shards[0]), str(shards[0])]
    )
    assert overlap.exit_code == 2 and "overlap" in overlap.output
