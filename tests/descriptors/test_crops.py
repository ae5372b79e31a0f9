import numpy as np

from fercl_cli.descriptors.crops import part_boxes, square_crop


def test_boxes_follow_the_paper_groups_and_margin():
    lm = np.zeros((1, 68, 2))
    lm[0, 36:48] = [[10, 20], [30, 24]] * 6
    lm[0, 48:68] = [[15, 40], [25, 50]] * 10
    eyes, mouth = part_boxes(lm, eye_margin_px=10)
    np.testing.assert_array_equal(eyes[0], [10, 10, 30, 34])
    np.testing.assert_array_equal(mouth[0], [15, 40, 25, 50])


def test_square_crop_pads_the_short_side_with_black():
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 20:80] = 255  # a 60×20 white box
    crop = square_crop(image, np.array([20, 40, 79, 59]), size=64)
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    rows = crop[:, 32, 0]
    assert (rows[24:40] == 255).all()  # the box fills the middle third...
    assert (rows[:20] == 0).all() and (rows[44:] == 0).all()  # ...and black pads above and below
    assert (crop[32, 2:62, 0] == 255).all()  # the long side spans the crop


def test_square_crop_of_a_box_leaving_the_image_is_black_there():
    image = np.full((50, 50, 3), 200, np.uint8)
    crop = square_crop(image, np.array([-50, 0, 49, 49]), size=64)
    assert (crop[:, :30] == 0).all() and (crop[17:47, 34:62] == 200).all()
    assert (crop[:15] == 0).all() and (crop[49:] == 0).all()  # 100×50 box: padded above and below
