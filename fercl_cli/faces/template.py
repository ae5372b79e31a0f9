"""The canonical face template that alignment maps every face onto.

``MEAN_SHAPE`` is a 68-point frontal mean shape in inter-ocular units: the midpoint between the eye
centres at the origin, the subject's right eye centre at (-0.5, 0) and left eye centre at (0.5, 0),
y pointing down. It was measured with dlib's 68-point predictor on the two public-domain portraits
that ship with scikit-image (``astronaut``) and matplotlib (``grace_hopper.jpg``), each also mirrored,
normalised to that frame and averaged (so it is exactly left-right symmetric).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEAN_SHAPE = np.array(
    [
        [-1.078, 0.087], [-1.045, 0.366], [-1.007, 0.631], [-0.953, 0.901], [-0.864, 1.159],
        [-0.725, 1.388], [-0.512, 1.566], [-0.28, 1.702], [0.0, 1.738], [0.28, 1.702],
        [0.512, 1.566], [0.725, 1.388], [0.864, 1.159], [0.953, 0.901], [1.007, 0.631],
        [1.045, 0.366], [1.078, 0.087], [-0.918, -0.111], [-0.805, -0.278], [-0.619, -0.33],
        [-0.422, -0.318], [-0.241, -0.25], [0.241, -0.25], [0.422, -0.318], [0.619, -0.33],
        [0.805, -0.278], [0.918, -0.111], [0.0, -0.027], [0.0, 0.181], [0.0, 0.371],
        [0.0, 0.567], [-0.238, 0.668], [-0.122, 0.704], [0.0, 0.734], [0.122, 0.704],
        [0.238, 0.668], [-0.68, 0.012], [-0.57, -0.076], [-0.428, -0.076], [-0.307, 0.039],
        [-0.44, 0.051], [-0.576, 0.051], [0.307, 0.039], [0.428, -0.076], [0.57, -0.076],
        [0.68, 0.012], [0.576, 0.051], [0.44, 0.051], [-0.465, 0.968], [-0.299, 0.929],
        [-0.128, 0.916], [0.0, 0.949], [0.128, 0.916], [0.299, 0.929], [0.465, 0.968],
        [0.304, 1.123], [0.133, 1.194], [0.0, 1.215], [-0.133, 1.194], [-0.304, 1.123],
        [-0.402, 0.982], [-0.127, 0.996], [0.0, 1.015], [0.127, 0.996], [0.402, 0.982],
        [0.127, 1.081], [0.0, 1.095], [-0.127, 1.081],
    ],
    dtype=np.float64,
)  # fmt: skip


@dataclass(frozen=True)
class Template:
    """Where the mean shape sits in an S×S crop.

    Attributes:
        iod: inter-ocular distance as a fraction of the crop size.
        eye_x: x of the eye midpoint as a fraction of the crop size.
        eye_y: y of the eye midpoint as a fraction of the crop size.
    """

    iod: float = 0.27
    eye_x: float = 0.5
    eye_y: float = 0.40

    def points(self, size: int) -> np.ndarray:
        """The 68 template points in crop pixels, float64 [68, 2], for an ``size``×``size`` crop."""
        if size < 16:
            raise ValueError(f"crop size must be at least 16 px, got {size}")
        return MEAN_SHAPE * (self.iod * size) + np.array([self.eye_x * size, self.eye_y * size])

    def describe(self) -> str:
        """A short string recorded in the store's attributes."""
        return f"mean68/rigid iod={self.iod} eye=({self.eye_x},{self.eye_y})"


DEFAULT_TEMPLATE = Template()
