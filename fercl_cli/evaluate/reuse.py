"""Evaluate unless a results file already holds the answer: the rule the demo and the ablation use to
skip finished evaluations on a rerun."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fercl_cli.errors import FerclError
from fercl_cli.evaluate.backbones import expected_hash
from fercl_cli.evaluate.request import EvaluateRequest
from fercl_cli.evaluate.results import Results


def answers(results: Results, request: EvaluateRequest) -> bool:
    """Whether ``results`` are those of ``request``: the same checkpoint bytes (or built-in checkpoint),
    the same request (:meth:`~fercl_cli.evaluate.request.EvaluateRequest.matches`), and every run's test
    rows kept (intervals need them)."""
    return (
        results.checkpoint["hash"] == expected_hash(request.checkpoint, request.arch)
        and request.matches(results.request)
        and results.has_test_rows
    )


def evaluate_or_reuse(
    request: EvaluateRequest, out: Path, progress: Callable[[str, int, int], None]
) -> tuple[bool, Results]:
    """``fercl evaluate --out out`` unless ``out`` already :func:`answers` ``request``; an unreadable
    ``out`` is evaluated again and overwritten.

    Returns:
        (reused, the results).
    """
    from fercl_cli.evaluate.tasks import evaluate

    if out.is_file():
        try:
            previous = Results.load(out)
        except FerclError:
            previous = None
        if previous is not None and answers(previous, request):
            return True, previous
    result = evaluate(request, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return False, Results(result)
