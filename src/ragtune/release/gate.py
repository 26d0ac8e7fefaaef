"""The promotion gate: a candidate must not score worse than the live release by more than a margin.

It reads the fine-tuned+RAG arm of the candidate's four-arm evaluation, the arm that serving
answers with. The first release has no champion to compare with, so it must clear floors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ragtune import tracking
from ragtune.config import ReleaseConfig

# (metric key in the evaluation run, name in words, floor field, allowed-drop field)
GATED_METRICS = (
    (tracking.METRIC_FT_RAG_F1, "fine-tuned+RAG F1", "min_f1", "max_f1_drop"),
    (
        tracking.METRIC_FT_RAG_CITATION_ACCURACY,
        "fine-tuned+RAG citation accuracy",
        "min_citation_accuracy",
        "max_citation_drop",
    ),
)


@dataclass(frozen=True)
class GateResult:
    """Whether the candidate may be promoted, and a line per gated metric."""

    passed: bool
    lines: list[str] = field(default_factory=list)

    def render(self) -> str:
        """`gate passed|failed:` then one line per metric."""
        return "\n".join([f"gate {'passed' if self.passed else 'failed'}:", *self.lines])


def check_gate(
    candidate: dict[str, float], live: dict[str, float] | None, config: ReleaseConfig
) -> GateResult:
    """Compare the candidate's gated metrics with the live release's (or the floors)."""
    passed = True
    lines = []
    for key, words, floor_field, drop_field in GATED_METRICS:
        value = candidate.get(key)
        if value is None:
            passed = False
            lines.append(f"  {words}: missing from the evaluation run (metric '{key}')")
            continue
        if live is None or key not in live:
            threshold = float(getattr(config, floor_field))
            rule = f"floor release.{floor_field}"
        else:
            threshold = live[key] - float(getattr(config, drop_field))
            rule = f"live {live[key]:.3f} - release.{drop_field}"
        ok = value >= threshold
        passed = passed and ok
        verdict = "ok" if ok else "TOO LOW"
        lines.append(f"  {words}: {value:.3f} vs {threshold:.3f} ({rule}): {verdict}")
    return GateResult(passed, lines)
