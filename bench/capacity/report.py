"""The capacity and server-settings reports as Markdown, next to the booking bench's in bench/out/."""
from bench.booking import wrk
from bench.capacity.outcome import KINDS, P99_LIMIT_MS, Step


def _counts(counts: dict[str, int]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"


def _kind_p99(result: wrk.Result) -> str:
    return " / ".join(f"{result.kinds.get(k, {}).get('p99_us', 0) / 1000:.0f}" for k in KINDS)


def _kind_share(result: wrk.Result) -> str:
    """Each kind's share of the answers, to see the drawn mix came out as meant."""
    total = sum(result.kinds.get(k, {}).get("n", 0) for k in KINDS) or 1
    return " / ".join(f"{100 * result.kinds.get(k, {}).get('n', 0) / total:.0f}" for k in KINDS)


def steps_table(steps: list[Step]) -> list[str]:
    lines = ["| load | req/s | p50 ms | p99 ms | % read / hold / release / book | p99 ms read / hold / release / book "
             "| bookings/s | holds/s "
             "| CPU ms/req app + db | 409s | failures | load avg | p99 < 200 ms |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|--:|---|"]
    for step in steps:
        r = step.result
        early = (f" (stopped after {r.seconds:.1f} s: booking slots used up)"
                 if r.counts.get("stopped_when_exhausted") else "")
        lines.append(
            f"| {step.label}{early} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {_kind_share(r)} "
            f"| {_kind_p99(r)} "
            f"| {step.count('book_201') / r.seconds:,.1f} | {step.count('hold_201') / r.seconds:,.1f} "
            f"| {r.app_cpu_ms:.1f} + {r.db_cpu_ms:.1f} | {_counts(step.conflicts)} | {_counts(step.failures)} "
            f"| {step.load:.2f} | {'yes' if step.holds else 'no'} |")
    return lines


def capacity_line(best: Step | None) -> str:
    if best is None:
        return f"No step kept p99 under {P99_LIMIT_MS} ms without failures."
    r = best.result
    return (f"**{r.rps:,.0f} requests/s** at {best.label} (p99 {r.p99_ms:.1f} ms): "
            f"{best.count('book_201') / r.seconds:,.1f} bookings/s and {best.count('hold_201') / r.seconds:,.1f} "
            f"holds/s, every connection a client that sends its next request as soon as it has the answer.")


def render(title: str, facts: dict, settings: dict, data: dict, sections: list[tuple[str, list[str]]]) -> str:
    out = [f"# {title}", "", "## Machine", ""] + [f"- {k}: {v}" for k, v in facts.items()]
    out += ["", "## Settings", ""] + [f"- {k}: {v}" for k, v in settings.items()]
    out += ["", "## Data", ""] + [f"- {k}: {v:,}" if isinstance(v, int) else f"- {k}: {v}" for k, v in data.items()]
    for heading, lines in sections:
        out += ["", f"## {heading}", ""] + lines
    return "\n".join(out) + "\n"
