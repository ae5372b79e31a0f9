import subprocess
import sys

import numpy as np

from fercl_cli.faces import landmarks
from fercl_cli.train.views import OCCLUSION_PARTS

FORBIDDEN = ("dlib", "cv2", "typer", "rich")


def test_train_modules_need_only_torch_and_numpy():
    code = (
        "import sys\n"
        "import fercl_cli.train.sampling, fercl_cli.train.views, fercl_cli.train.model, fercl_cli.train.losses\n"
        f"print(sorted(set(sys.modules) & set({FORBIDDEN!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_occlusion_parts_use_the_project_landmark_groups():
    groups = {"right_eye": landmarks.RIGHT_EYE, "left_eye": landmarks.LEFT_EYE, "mouth": landmarks.MOUTH}
    for name, (first, stop) in OCCLUSION_PARTS.items():
        np.testing.assert_array_equal(np.arange(first, stop), groups[name])
