"""The benchmark code paths run end to end on tiny inputs (their speed is not asserted here)."""

import math

from fercl_cli.bench.gpu import run as run_gpu_bench
from fercl_cli.bench.loader import bench_loader
from fercl_cli.bench.synthetic import write_synthetic_store
from fercl_cli.store.reader import FaceStore


def test_synthetic_store_is_a_valid_training_store(tmp_path):
    from fercl_cli.store.validate import validate

    path = write_synthetic_store(tmp_path / "s.h5", clips=3, frames=16, size=32)
    store = FaceStore(path)
    assert (store.n_clips, store.n_frames, store.crop_size) == (3, 48, 32)
    assert validate(path) == []


def test_loader_bench_measures_both_loaders(tmp_path):
    path = write_synthetic_store(tmp_path / "s.h5", clips=4, frames=40, size=64)
    result = bench_loader(path, batch_clips=2, batches=1, size=48, naive_tuples=1)
    values = {
        row.metric.split(",")[1].strip() if "," in row.metric else row.metric: row.value
        for row in result.rows
    }
    assert len(result.rows) == 4 and all(math.isfinite(r.value) and r.value > 0 for r in result.rows)
    assert "4-tuples/s" in result.markdown() and values


def test_gpu_bench_script_runs_on_the_cpu(tmp_path):
    result = run_gpu_bench(
        tmp_path, steps=2, batch_clips=2, clips=4, workers=0, device="cpu", archs=["resnet18"], size=32
    )
    assert len(result.rows) == 12  # 3 precision settings x (images/s, step time, data wait, memory)
    assert all(math.isfinite(r.value) for r in result.rows if "memory" not in r.metric)
