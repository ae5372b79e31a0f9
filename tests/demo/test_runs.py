from fercl_cli.demo.layout import Layout
from fercl_cli.demo.profiles import QUICK
from fercl_cli.demo.runs import DEMO_RUN, TASKS, evaluation_requests


def test_requests_cover_every_task_at_the_profile_size(tmp_path):
    requests = evaluation_requests(Layout(tmp_path), QUICK, str(tmp_path / "runs" / DEMO_RUN), "auto")
    assert list(requests) == list(TASKS)
    assert {r.input_size for r in requests.values()} == {QUICK.net_px}
    assert requests["lfw"].min_faces == QUICK.sample.lfw_images
    assert requests["fer2013"].data == tmp_path / "sample" / "fer2013" / "fer2013.csv"
    assert all(r.seeds == (0,) and r.cache_dir == tmp_path / "eval-cache" for r in requests.values())
