"""Turn benchmark results into the Markdown table for the README and a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.run import Result


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def table(results: list[Result]) -> str:
    rows = [
        "| N | all Ready | lower bound | ratio | requests | per instance | 429s | "
        "steady req/instance/h | drift interval | peak RSS | CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        drift = _minutes(r.drift_interval_seconds) if r.drift_interval_seconds else "-"
        rows.append(
            f"| {r.n} | {_minutes(r.seconds_to_ready)} | {_minutes(r.bound_seconds)} | "
            f"{r.ratio:.2f}x | {r.requests_total} | {r.requests_total / r.n:.2f} | "
            f"{r.rate_limited} | {r.steady_requests_per_instance_hour:.1f} | {drift} | "
            f"{r.peak_rss_mib:.0f} MiB | {r.cpu_seconds:.0f} s |"
        )
    return "\n".join(rows)


def kinds(results: list[Result]) -> str:
    names = sorted({k for r in results for k in r.requests})
    rows = ["| request | " + " | ".join(f"N={r.n}" for r in results) + " |"]
    rows.append("|---|" + "---|" * len(results))
    for name in names:
        rows.append(
            f"| `{name}` | " + " | ".join(str(r.requests.get(name, 0)) for r in results) + " |"
        )
    return "\n".join(rows)


def plot(results: list[Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for r in results:
        xs = [t / 60 for t, _ in r.ready_timeline]
        ys = [ready for _, ready in r.ready_timeline]
        (line,) = ax.plot(xs, ys, label=f"N={r.n} Ready")
        ax.axvline(r.bound_seconds / 60, color=line.get_color(), linestyle="--", linewidth=1)
    ax.set_xlabel("minutes (real-service time); dashed: lower bound")
    ax.set_ylabel("AuraInstances Ready")
    ax.set_title("Time to Ready on one 110 req/min credential")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(results: list[Result], out: Path) -> str:
    text = table(results) + "\n\nRequests by kind:\n\n" + kinds(results) + "\n"
    (out / "results.md").write_text(text)
    plot(results, out / "ready.png")
    return text
