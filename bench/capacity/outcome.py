"""What a mixed run's answers were, sorted: successes by kind, 409 conflicts by code, and failures."""
from dataclasses import dataclass

from bench.booking import wrk

P99_LIMIT_MS = 200
KINDS = ("read", "hold", "release", "book")


@dataclass
class Step:
    """One load level of the mixed workload: its wrk figures and the machine's load when it started."""

    label: str  # e.g. "16 connections" or a gunicorn setting
    result: wrk.Result
    load: float

    def count(self, prefix: str) -> int:
        return sum(v for k, v in self.result.counts.items() if k.startswith(prefix))

    @property
    def conflicts(self) -> dict[str, int]:
        """409 answers by kind and code: a slot someone else holds or booked is an answer, not a failure."""
        return {k: v for k, v in self.result.counts.items() if k.split("_")[1:2] == ["409"]}

    @property
    def failures(self) -> dict[str, int]:
        """Everything that is neither 2xx nor 409: other statuses, answers without our request id, and
        wrk's socket errors (connect, read, write, timeout)."""
        bad = {k: v for k, v in self.result.counts.items()
               if k.split("_")[0] in KINDS and k.split("_")[1][:1] in "345" and k not in self.conflicts}
        bad.update({k: v for k, v in self.result.counts.items() if k.startswith("unmatched_")})
        bad.update({f"socket {k}": v for k, v in self.result.errors.items() if k != "status" and v})
        return bad

    @property
    def holds(self) -> bool:
        """The step counts towards capacity: p99 under the limit and nothing failed."""
        return self.result.p99_ms < P99_LIMIT_MS and not self.failures


def capacity(steps: list[Step]) -> Step | None:
    """The step with the highest throughput among those that hold (None when none does)."""
    held = [step for step in steps if step.holds]
    return max(held, key=lambda step: step.result.rps, default=None)
