import hashlib
import zipfile

import numpy as np

from fercl_cli.sample import photos


def test_package_photos_are_found_with_their_licences(no_insightface):
    search = photos.find_source_photos()
    keys = [p.key for p in search.photos]
    assert keys == ["scikit-image:astronaut.png", "matplotlib:grace_hopper.jpg"]
    astronaut = search.photos[0]
    assert astronaut.image.dtype == np.uint8 and astronaut.image.shape == (512, 512, 3)
    assert "public domain" in astronaut.licence
    assert [p.name for p in astronaut.people] == ["Eileen_Collins"]
    assert len(astronaut.sha256) == 64


def test_a_missing_wheel_says_what_to_run(no_insightface):
    search = photos.find_source_photos()
    assert len(search.missing) == 1
    note = search.missing[0]
    assert photos.WHEEL_NAME in note and "pip download --no-deps insightface==2.1" in note
    assert str(no_insightface) in note


def test_images_are_read_from_the_wheel_zip_without_installing(fake_wheel):
    search = photos.find_source_photos()
    assert search.missing == ()
    extra = {p.key: p for p in search.photos[2:]}
    assert set(extra) == {"insightface:t1.jpg", "insightface:Tom_Hanks_54745.png"}
    t1 = extra["insightface:t1.jpg"]
    assert t1.image.shape == (20, 30, 3) and len(t1.people) == 6
    assert t1.member == "insightface/data/images/t1.jpg"
    with zipfile.ZipFile(fake_wheel) as archive:
        assert t1.sha256 == hashlib.sha256(archive.read(t1.member)).hexdigest()


def test_a_broken_wheel_is_reported_not_raised(no_insightface):
    (no_insightface / photos.WHEEL_NAME).write_bytes(b"not a zip")
    search = photos.find_source_photos()
    assert len(search.photos) == 2
    assert "could not be read" in search.missing[0]
