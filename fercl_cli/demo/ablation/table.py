"""The ablation as a table (terminal and Markdown), with its settings, reading and decision rules, and
the ``<!-- bench:ablation -->`` section of docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fercl_cli.demo.ablation.configs import CONFIGS, REFERENCE_NAMES, SUPERVISED, paper_values
from fercl_cli.demo.ablation.summary import AblationSummary
from fercl_cli.demo.runs import RANDOM
from fercl_cli.demo.table import COLUMNS
from fercl_cli.errors import FerclError

SECTION = "ablation"
SHORT_NAMES_NOTE = "AN = AffectNet, TA = TimeAug, HN = HardNeg, FS = FaceSwap, paper = its AffectNet F1 %"


def table(summary: AblationSummary, short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and text rows: the random floor, then each configuration, cells ``mean ± std``, and the
    paper's F1 for reference; ``short`` abbreviates names and cells (see :data:`SHORT_NAMES_NOTE`; CCCs
    with 2 decimals) so the table fits an 80-column terminal."""
    header = [
        "config" if short else "configuration",
        *(f"{m.brief if short else m.short} {m.arrow}" for m in COLUMNS),
        "paper" if short else "paper F1 %",
    ]
    seeds = max((cell["n"] for cells in summary.cells.values() for cell in cells.values()), default=0)

    def cells(values: Mapping[str, Any], intervals: Mapping[str, Any]) -> list[str]:
        return [m.format(values.get(m.key), None if short else intervals.get(m.key), short) for m in COLUMNS]

    rows = [
        [
            "random" if short else "random init (calibrated BN floor, 1 init)",
            *cells(summary.floor, summary.intervals.get(RANDOM, {})),
            "",
        ]
    ]
    references = [(key, *REFERENCE_NAMES[key]) for key in REFERENCE_NAMES if key in summary.references]

    def reference_row(key: str, name: str, short_name: str) -> list[str]:
        return [
            short_name if short else name,
            *cells(summary.references[key], summary.intervals.get(key, {})),
            "",
        ]

    rows += [reference_row(*ref) for ref in references if ref[0] != SUPERVISED]
    paper = paper_values()
    for config in CONFIGS:
        rows.append(
            [
                config.short if short else f"{config.name} ({seeds} seeds)",
                *cells(summary.cells[config.key], summary.intervals.get(config.key, {})),
                f"{100 * paper[config.key]['affectnet/macro_f1']:.1f}",
            ]
        )
    rows += [reference_row(*ref) for ref in references if ref[0] == SUPERVISED]
    return header, rows


def markdown(summary: AblationSummary) -> str:
    """The ablation as a Markdown section: settings, table, reading."""
    header, rows = table(summary)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    profile = summary.settings.get("profile", "standard")
    lines = [
        "### Miniature ablation (fercl demo --ablation)",
        "",
        f"Rewritten by `make ablation` (`fercl demo --profile {profile} --ablation --write docs/benchmarks.md`), "
        f"which also draws `DIR/{profile}/ablation/ablation.png`; see docs/demo.md for how to read it.",
        "",
        *(f"- {key}: {value}" for key, value in summary.settings.items()),
        "",
        line(header),
        "|" + "|".join("---" for _ in header) + "|",
        *(line(row) for row in rows),
        "",
        "Cells: mean ± sample std over pretraining seeds, then the 95 % row-bootstrap interval (test rows "
        "resampled, seeds averaged) where the runs' results are at hand; percent for accuracy/F1, CCC in "
        "[-1, 1]. The random floor's BatchNorm statistics are calibrated on the training split. ↑ higher "
        "is better, ↓ lower is better (LFW identity accuracy: less identity leakage). Frozen backbone "
        "features: linear probes (AffectNet, FER2013, valence/arousal ridge) and LFW 1-NN, on the synthetic "
        "sample sets. 'paper F1 %' is the published AffectNet fine-tuning figure, for the ordering only.",
        "",
        "Reading:",
        "",
        *(f"- {text}" for text in summary.statements),
        *_decision_lines(summary),
    ]
    return "\n".join(lines) + "\n"


def _decision_lines(summary: AblationSummary) -> list[str]:
    """The decision rules as Markdown: each rule, its measured difference and interval, passed or not,
    then the computed verdict."""
    if not summary.decision:
        return []
    lines = ["", "Decision rules (computed; paired row bootstrap, seeds averaged):", ""]
    for rule in summary.decision["rules"]:
        d = rule["difference"]
        lines.append(
            f"- ({rule['key']}) {rule['requirement']}: {100 * d['estimate']:+.1f} points "
            f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}] → **{'passed' if rule['passed'] else 'failed'}**"
        )
    return [*lines, "", f"**Verdict:** {summary.decision['verdict']}"]


@dataclass
class _Section:
    """What :func:`fercl_cli.bench.record.write_section` needs: a name and the section's Markdown."""

    name: str
    text: str

    def markdown(self) -> str:
        return self.text


def write_section(path: str | Path, summary: AblationSummary) -> Path:
    """Replace (or append) the ``<!-- bench:ablation -->`` section of the Markdown file ``path``."""
    from fercl_cli.bench.record import write_section as write

    path = Path(path)
    if path.suffix.lower() != ".md":
        raise FerclError(f"--write {path}: the ablation section is Markdown; give a path ending in .md")
    if not path.parent.is_dir():
        raise FerclError(f"--write {path}: the folder {path.parent} does not exist")
    return write(path, _Section(SECTION, markdown(summary)))  # type: ignore[arg-type]
