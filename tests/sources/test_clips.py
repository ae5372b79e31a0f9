from fractions import Fraction

import cv2
import numpy as np
import pytest

from fercl_cli.sources.clips import ClipReadError, ClipSource, frame_number_of, read_clip


def _write_video(path, n_frames, fps=25.0, size=64):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    assert writer.isOpened()
    for i in range(n_frames):
        frame = np.full((size, size, 3), 0, np.uint8)
        frame[:, :, 2] = 4 * i  # red in BGR: a per-frame code, checked after decoding
        writer.write(frame)
    writer.release()


def test_video_is_decoded_at_25_over_6_fps_in_order(tmp_path):
    path = tmp_path / "00001.mp4"
    _write_video(path, 40)
    frames = list(read_clip(ClipSource("id1", "v", "00001", path, "video"), Fraction(25, 6)))
    assert [f.frame_number for f in frames] == [0, 6, 12, 18, 24, 30, 36]
    np.testing.assert_allclose([f.t for f in frames], np.array([0, 6, 12, 18, 24, 30, 36]) / 25)
    for f in frames:
        assert f.image.dtype == np.uint8 and f.image.shape == (64, 64, 3)
        assert abs(int(f.image[..., 0].mean()) - 4 * f.frame_number) <= 6  # RGB order: red is channel 0


def test_non_integer_step_picks_the_nearest_frames(tmp_path):
    path = tmp_path / "c.mp4"
    _write_video(path, 20, fps=30.0)
    frames = list(read_clip(ClipSource("i", "v", "c", path, "video"), Fraction(25, 6)))
    assert [f.frame_number for f in frames] == [round(k * 30 / (25 / 6)) for k in range(3)]


def test_corrupt_video_raises_a_clip_read_error(tmp_path):
    path = tmp_path / "bad.mp4"
    path.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(ClipReadError, match="bad.mp4"):
        list(read_clip(ClipSource("i", "v", "bad", path, "video")))


def test_frame_folder_is_read_in_frame_number_order_not_listing_order(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for number in (100, 9, 10, 34):
        cv2.imwrite(str(folder / f"{number}.jpg"), np.full((8, 8, 3), number, np.uint8))
    (folder / "0000050.jpg").write_bytes(b"broken jpeg")
    frames = list(read_clip(ClipSource("i", "v", "clip", folder, "frames")))
    assert [f.frame_number for f in frames] == [9, 10, 34, 50, 100]
    assert frames[3].image.shape == (0, 0, 3) and frames[3].source.endswith("0000050.jpg")
    np.testing.assert_allclose(frames[-1].t, (100 - 9) / 25)


def test_frame_number_of_uses_the_last_digit_run(tmp_path):
    assert frame_number_of(tmp_path / "frame_v2_0000123.jpg") == 123
    with pytest.raises(ClipReadError, match="no frame number"):
        frame_number_of(tmp_path / "cover.jpg")


def test_frame_names_with_digit_runs_too_long_for_int32_are_numbered_by_name_order(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    names = ["frame_98237498237498234.jpg", "frame_12837412983749182.jpg", "frame_55555555555555555.jpg"]
    for i, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((8, 8, 3), i, np.uint8))
    frames = list(read_clip(ClipSource("i", "v", "clip", folder, "frames")))
    assert [f.frame_number for f in frames] == [0, 1, 2]
    assert [f.source.rsplit("/", 1)[1] for f in frames] == sorted(names)
    np.testing.assert_allclose([f.t for f in frames], np.arange(3) / 25)
