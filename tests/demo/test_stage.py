from fercl_cli.demo.stage import Stage, status_of


def test_status_of():
    assert status_of(worked=False, earlier=True) == "reused"
    assert status_of(worked=True, earlier=True) == "resumed"
    assert status_of(worked=True, earlier=False) == "ran"


def test_a_stage_reports_its_start_progress_and_end():
    events = []
    stage = Stage("swap", "FaceSwap bank", lambda kind, payload: events.append((kind, payload)))
    stage.progress("frames", 3, 10)
    result = stage.end("ran", "3 swaps", {"swaps": "/tmp/s.h5"}, {"swaps": 3})
    assert [kind for kind, _ in events] == ["stage", "progress", "done"]
    assert events[1][1] == {"stage": "swap", "what": "frames", "done": 3, "total": 10}
    assert events[2][1] == result.to_dict() and result.outputs == {"swaps": "/tmp/s.h5"}
    assert result.seconds >= 0
