import cv2
import numpy as np

from fercl_cli.bench.preprocess import _upscaled_videos
from fercl_cli.sources.clips import ClipSource


def test_large_frame_videos_keep_every_frame_at_the_asked_size(tmp_path):
    path = tmp_path / "in.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (320, 240))
    for i in range(7):
        writer.write(np.full((240, 320, 3), 30 * i, np.uint8))
    writer.release()
    discovery = _upscaled_videos(
        [ClipSource("id1", "vid", "00001", path, "video")], tmp_path / "big", 540, 960
    )
    (clip,) = discovery.clips
    assert (clip.identity, clip.video, clip.name) == ("id1", "vid", "00001")
    capture = cv2.VideoCapture(str(clip.path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 7 and frames[0].shape == (540, 960, 3)
    assert abs(float(frames[3].mean()) - 90) < 10  # lossy mp4v; frames are 30 levels apart
