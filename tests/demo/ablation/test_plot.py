import cv2
import numpy as np

from fercl_cli.demo.ablation.configs import CONFIGS
from fercl_cli.demo.ablation.plot import (
    COLOURS,
    HEADER,
    PANEL_H,
    PANEL_W,
    render_ablation,
    write_ablation_png,
)
from fercl_cli.demo.ablation.summary import summarise
from tests.factories.ablation import FLOOR, PAPER_ORDER, fake_runs


def test_panels_show_every_configuration_and_the_floor(tmp_path):
    summary = summarise(fake_runs(PAPER_ORDER, 0.02), FLOOR)
    picture = render_ablation(summary)
    assert picture.shape == (HEADER + 2 * PANEL_H, 3 * PANEL_W, 3) and picture.dtype == np.uint8
    first_panel = picture[HEADER : HEADER + PANEL_H, :PANEL_W]
    for colour in COLOURS[: len(CONFIGS)]:  # every configuration's marker is drawn in its colour
        assert np.all(first_panel == colour, axis=-1).sum() > 20
    path = write_ablation_png(tmp_path / "plot" / "ablation.png", summary)
    assert np.array_equal(cv2.imread(str(path)), picture)


def test_a_column_without_numbers_still_draws():
    runs = fake_runs(PAPER_ORDER, 0.0, seeds=1)
    for per_seed in runs.values():
        per_seed[0]["lfw/accuracy"] = None
    summary = summarise(runs, {**FLOOR, "lfw/accuracy": None})
    picture = render_ablation(summary)
    lfw_panel = picture[HEADER + PANEL_H :, 2 * PANEL_W :]
    assert (lfw_panel < 128).any()  # the "no values" label and the frame
