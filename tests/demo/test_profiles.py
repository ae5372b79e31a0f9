import pytest

from fercl_cli.demo.profiles import QUICK, TESTBED, check_device, profile_for, profile_named
from fercl_cli.errors import FerclError
from fercl_cli.sample.testbed import TestbedOptions


def test_profiles_and_device():
    assert profile_for(True) is QUICK and profile_for(False).name == "standard"
    assert check_device("cpu") == "cpu"
    with pytest.raises(FerclError, match="--device must be auto, cpu or cuda, got 'tpu'"):
        check_device("tpu")
    assert profile_named("testbed") is TESTBED and profile_named("quick") is QUICK
    with pytest.raises(FerclError, match="--profile must be one of quick, standard, testbed, got 'huge'"):
        profile_named("huge")
    # the testbed profile: the corpus of `fercl sample --profile testbed`, recorded as its sample.json does
    assert TESTBED.sample == TestbedOptions() and TESTBED.sample_options() == TestbedOptions().to_dict()
    assert TESTBED.arch == "smallcnn" and TESTBED.swap_per_frame >= 4 and TESTBED.swap_p == 0.8
    assert QUICK.sample_options()["identities"] == QUICK.sample.identities
    for profile in (QUICK, profile_for(False), TESTBED):  # the paper's crop ratio: 112 of 128
        assert profile.net_px == round(profile.crop_px * 112 / 128)
        assert profile.batch_clips <= profile.sample.identities * profile.sample.clips_per_identity
        assert len(profile.ablation_seeds) >= 3
