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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('time_aug = "false"', r"cfg\.toml: time_aug must be true or false, got 'false' \(a string"),
        ('amp = "no"', "amp must be true or false"),
        ("epochs = 2.5", "epochs must be a whole number, got 2.5"),
        ("batch_clips = true", "batch_clips must be a whole number, got True"),
        ('lr = "fast"', "lr must be a number"),
        ("seed = -1", "--seed must be 0 or more"),
        ("arch = 18", "arch must be a string"),
        ("max_steps = 1.0", "max_steps must be a whole number or null"),
        ("tme_aug = true", "unknown option 'tme_aug'; did you mean 'time_aug'"),
    ],
)
def test_config_file_values_are_type_checked(tmp_path, text, message):
    path = tmp_path / "cfg.toml"
    path.write_text(text + "\n")
    with pytest.raises(FerclError, match=message):
        resolve(load_config_file(path), {}, source=str(path))


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_yaml_and_json_strings_for_bools_are_refused(tmp_path, suffix):
    path = tmp_path / f"cfg{suffix}"
    path.write_text('amp: "false"\n' if suffix == ".yaml" else '{"amp": "false"}')
    with pytest.raises(FerclError, match="amp must be true or false"):
        resolve(load_config_file(path), {}, source=str(path))


def test_ints_are_accepted_for_floats_and_null_for_optional_ints(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text('{"lr": 1, "max_steps": null, "warmup_epochs": 0}')
    cfg = resolve(load_config_file(path), {})
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.max_steps is None


def test_command_line_values_are_checked_the_same_way():
    with pytest.raises(FerclError, match="--epochs must be a whole number"):
        resolve({}, {"epochs": 1.5})
    with pytest.raises(FerclError, match="--seed must be 0 or more"):
        resolve({}, {"seed": -3})
