import pytest

from fercl_cli.errors import FerclError
from fercl_cli.faces.insightface_backend import check_model_pack


def test_no_model_folder_is_a_clear_error():
    with pytest.raises(FerclError, match="--models-dir"):
        check_model_pack(None, "buffalo_l")


def test_folder_without_onnx_files_is_named(tmp_path):
    (tmp_path / "models" / "buffalo_l").mkdir(parents=True)
    with pytest.raises(FerclError) as err:
        check_model_pack(tmp_path, "buffalo_l")
    assert str(tmp_path / "models" / "buffalo_l") in str(err.value)
    (tmp_path / "models" / "buffalo_l" / "det_10g.onnx").write_bytes(b"")
    assert check_model_pack(tmp_path, "buffalo_l").name == "buffalo_l"
