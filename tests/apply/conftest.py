import pytest


@pytest.fixture(scope="session")
def backend():
    from fercl_cli.faces.dlib_backend import DlibBackend

    return DlibBackend()
