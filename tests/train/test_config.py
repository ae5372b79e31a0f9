import json

import pytest

from fercl_cli.errors import FerclError
from fercl_cli.train.config import PretrainConfig, load_config_file, resolve


def test_paper_defaults():
    cfg = PretrainConfig()
    assert (cfg.temperature, cfg.lr, cfg.weight_decay, cfg.batch_clips, cfg.size) == (
        0.07,
        3e-4,
        1e-4,
        128,
        112,
    )
    assert (cfg.swap_p, cfg.swap_q, cfg.mask_lambda, cfg.offset_weights, cfg.arch) == (
        0.8,
        0.8,
        0.8,
        "c",
        "resnet50",
    )


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_file_then_command_line_precedence(tmp_path, suffix):
    path = tmp_path / f"cfg{suffix}"
    values = {"arch": "resnet18", "batch-clips": 16, "lr": 0.001}
    if suffix == ".toml":
        path.write_text('arch = "resnet18"\nbatch-clips = 16\nlr = 0.001\n')
    elif suffix == ".yaml":
        path.write_text("arch: resnet18\nbatch-clips: 16\nlr: 0.001\n")
    else:
        path.write_text(json.dumps(values))
    cfg = resolve(load_config_file(path), {"lr": 0.01, "store": "s.h5", "out": "run"})
    assert (cfg.arch, cfg.batch_clips, cfg.lr, cfg.temperature) == ("resnet18", 16, 0.01, 0.07)


def test_bad_configurations_name_the_option(tmp_path):
    with pytest.raises(FerclError, match="--mask-fn"):
        resolve({}, {"mask_fn": "top2"})
    with pytest.raises(FerclError, match="--swaps"):
        resolve({}, {"face_swap": True})
    with pytest.raises(FerclError, match="--swap-p"):
        resolve({}, {"swap_p": 1.5})
    with pytest.raises(FerclError, match="unknown option"):
        resolve({"learning_rate": 1.0}, {})
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = [")
    with pytest.raises(FerclError, match="cannot parse"):
        load_config_file(bad)
    with pytest.raises(FerclError, match="does not exist"):
        load_config_file(tmp_path / "missing.toml")
