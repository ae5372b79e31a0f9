import cv2
import numpy as np
import pandas as pd

from fercl_cli.sample.contact_sheet import TILE, write_contact_sheet
from fercl_cli.sample.expressions import EXPRESSIONS


def test_contact_sheet_tiles_the_strongest_frame_per_expression(sample_dir, tmp_path):
    out = write_contact_sheet(sample_dir / "voxceleb", tmp_path / "sheet.jpg")
    sheet = cv2.imread(str(out))
    meta = pd.read_csv(sample_dir / "voxceleb" / "vox1_meta.csv", sep="\t")
    assert sheet.shape == (len(meta) * (TILE + 18), 8 * TILE, 3)
    truth = pd.read_csv(sample_dir / "voxceleb" / "ground_truth.csv")
    first = truth[(truth["voxceleb_id"] == "id10001") & (truth["interval_frame"] == 1)]
    shown = set(first["expression"])
    tiles = sheet[18 : 18 + TILE].reshape(TILE, 8, TILE, 3).transpose(1, 0, 2, 3)
    grey = [bool(np.abs(tile[8 : TILE - 24, 8:-8].astype(int) - 128).max() <= 8) for tile in tiles]
    assert grey == [e not in shown for e in EXPRESSIONS]
