import numpy as np
import pytest

from fercl_cli.errors import FerclError
from fercl_cli.store.descriptors import write_descriptors
from fercl_cli.store.merge import merge
from fercl_cli.store.reader import FaceStore
from fercl_cli.store.validate import validate
from tests.factories.clips import clip_specs, write_clips


def _rows_by_key(store):
    """Per clip key: every frame column, the images (or JPEG bytes) and the failure records."""
    failures = {}
    for clip, record in store.failures():
        failures.setdefault(clip, []).append(record)
    out = {}
    for clip in range(store.n_clips):
        rows = store.clip_rows(clip)
        index = slice(rows.start, rows.stop)
        columns = {
            name: store.column(name, index) for name in ("landmarks", "source_landmarks", "bbox", "matrix")
        }
        columns.update(
            {name: store.column(name, index) for name in ("score", "t", "frame_number", "detector")}
        )
        columns["pixels"] = store.encoded(index) if store.encoding == "jpeg" else store.images(index)
        out[store.clip_key(clip)] = (columns, failures.get(clip, []))
    return out


@pytest.mark.parametrize("encoding", ["raw", "jpeg"])
def test_merged_shards_equal_a_single_store_row_for_row(tmp_path, encoding):
    specs = clip_specs(20)
    single = tmp_path / "single.h5"
    write_clips(single, specs, encoding=encoding)
    shards = []
    for i in range(3):
        shard = tmp_path / f"shard{i}.h5"
        write_clips(shard, specs[i::3], encoding=encoding)
        shards.append(shard)
    out = tmp_path / "merged.h5"
    seen = []
    result = merge(out, shards[::-1], progress=lambda done, total: seen.append((done, total)))
    assert validate(out) == []
    merged, reference = FaceStore(out), FaceStore(single)
    assert (result.frames, result.clips, result.failures) == (
        reference.n_frames,
        reference.n_clips,
        reference.n_failures,
    )
    keys = [merged.clip_key(c) for c in range(merged.n_clips)]
    assert keys == sorted(spec.key for spec in specs)
    assert sorted(merged.identity_names) == sorted(reference.identity_names)
    got, want = _rows_by_key(merged), _rows_by_key(reference)
    assert got.keys() == want.keys()
    for key, (columns, failures) in want.items():
        assert failures == got[key][1]
        for name, value in columns.items():
            other = got[key][0][name]
            assert (other == value) if isinstance(value, list) else np.array_equal(other, value), (key, name)
    assert seen[-1] == (reference.n_frames, reference.n_frames)


def test_merge_carries_matching_descriptors_in_merged_order(tmp_path):
    specs = clip_specs(8)
    shards = [tmp_path / "a.h5", tmp_path / "b.h5"]
    write_clips(shards[0], specs[:4])
    write_clips(shards[1], specs[4:])
    for shard in shards:
        store = FaceStore(shard)
        values = np.stack([store.column("frame_number"), store.column("clip")], axis=1).astype(np.float32)
        write_descriptors(shard, "geometry", values, {"version": 1})
        write_descriptors(shard, f"only-{shard.stem}", np.ones((store.n_frames, 2)))
    result = merge(tmp_path / "merged.h5", shards)
    assert result.descriptors == ["geometry"] and result.dropped_descriptors == ["only-a", "only-b"]
    merged = FaceStore(tmp_path / "merged.h5")
    assert merged.descriptor_attrs("geometry")["version"] == 1
    assert np.array_equal(
        merged.descriptors("geometry")[:, 0], merged.column("frame_number").astype(np.float16)
    )


def test_merge_resumes_into_an_existing_output(tmp_path):
    specs = clip_specs(6)
    shards = [tmp_path / "a.h5", tmp_path / "b.h5"]
    write_clips(shards[0], specs[:3])
    write_clips(shards[1], specs[3:])
    out = tmp_path / "merged.h5"
    merge(out, shards[:1])
    assert merge(out, shards).clips == 6
    assert validate(out) == []


def test_overlapping_or_incompatible_shards_are_refused(tmp_path):
    specs = clip_specs(4)
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    write_clips(a, specs[:3])
    write_clips(b, specs[2:])
    with pytest.raises(FerclError, match="shards overlap"):
        merge(tmp_path / "out.h5", [a, b])
    write_clips(c, specs[3:], config={"min_face": 30})
    with pytest.raises(FerclError, match="config.min_face"):
        merge(tmp_path / "out.h5", [a, c])
    with pytest.raises(FerclError, match="also one of the shards"):
        merge(a, [a])
    with pytest.raises(FerclError, match="no shard"):
        merge(tmp_path / "out.h5", [])
