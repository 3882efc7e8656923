"""Turn benchmark results into the Markdown table of docs/benchmark.md and a PNG plot.

One row per run (N and credentials), one column per figure with its goal in the header; a
figure that misses its goal is marked ✗ (docs/benchmark.md says why)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bench.measure import percentile

if TYPE_CHECKING:
    from bench.run import Result


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _mark(value: float | None, goal: float, text: str) -> str:
    if value is None:
        return "-"
    return text if value <= goal else f"{text} ✗"


def _p95(values: list[float]) -> float | None:
    return percentile(values, 0.95)


def row(r: Result) -> list[str]:
    base = r.credentials == 1
    ratio_goal = 1.10
    cells = [
        f"{r.n}" + ("" if base else f" over {r.credentials} credentials"),
        _minutes(r.seconds_to_ready),
        _minutes(r.bound_seconds) + ("" if base else f" (for {-(-r.n // r.credentials)})"),
        _mark(r.ratio, ratio_goal, f"{r.ratio:.2f}x"),
        f"{r.requests_total / r.n:.2f}",
        _mark(r.rate_limited, 0, str(r.rate_limited)),
    ]
    steady = r.steady_requests_per_instance_hour
    cells.append(
        "-"
        if steady is None
        else (
            f"{steady:.1f}"
            if r.n > 200
            else _mark(steady, 6.0, f"{steady:.1f}")  # the goal is set for N = 50 and 200
        )
    )
    for values in (r.delete_detect, r.rename_detect):
        p95 = _p95(values)
        cells.append(_mark(p95, 90.0, f"{_s(p95)} (max {_s(max(values))})") if values else "-")
    if r.change_latency:
        p50, p95 = percentile(r.change_latency, 0.5), _p95(r.change_latency)
        cells.append(_mark(p95, 2.0, f"{_s(p50)} / {_s(p95)}"))
    else:
        cells.append("-")
    lags = [
        ("create", r.create_ready_lag_p95),
        ("resize", _p95(r.resize_ready_lag)),
        ("resume", _p95(r.resume_ready_lag)),
    ]
    cells.append(
        ", ".join(f"{what} {_mark(v, 15.0, _s(v))}" for what, v in lags if v is not None) or "-"
    )
    first = _p95(r.first_post_wall)
    cells.append(_mark(first, 1.0, _s(first)) if first is not None else "-")
    if r.restart_requests is not None:
        cells.append(
            f"{r.restart_requests} requests; listed in {_s(r.restart_listed_seconds)}, "
            f"all re-read in {_minutes(r.restart_reread_seconds)}; "
            f"change sent in {_s(r.restart_change_seconds)}"
        )
    else:
        cells.append("-")
    rss = f"{r.peak_rss_mib:.0f} MiB"
    cells.append(_mark(r.peak_rss_mib, 150.0, rss) if r.n >= 1000 else rss)
    cells.append(f"{r.cpu_seconds:.0f} s")
    return cells


HEADER = [
    "N",
    "all Ready",
    "lower bound",
    "ratio (≤ 1.10x)",
    "requests / instance",
    "429s (0)",
    "steady req / instance-h (≤ 6 at N ≤ 200)",
    "console delete noticed, p95 (≤ 90 s)",
    "console rename noticed, p95 (≤ 90 s)",
    "change → PATCH p50 / p95 (≤ 2 s)",
    "Aura running → Ready p95 (≤ 15 s)",
    "apply → first POST p95, wall (≤ 1 s)",
    "restart",
    "peak RSS (≤ 150 MiB at N = 1000)",
    "CPU",
]


def table(results: list[Result]) -> str:
    rows = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    rows += ["| " + " | ".join(row(r)) + " |" for r in results]
    return "\n".join(rows)


def kinds(results: list[Result]) -> str:
    names = sorted({k for r in results for k in r.requests})
    label = [f"N={r.n}" + (f"/{r.credentials}" if r.credentials > 1 else "") for r in results]
    rows = ["| request (until all Ready) | " + " | ".join(label) + " |"]
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
        label = f"N={r.n}" + (f" over {r.credentials} credentials" if r.credentials > 1 else "")
        (line,) = ax.plot(xs, ys, label=f"{label} Ready")
        ax.axvline(r.bound_seconds / 60, color=line.get_color(), linestyle="--", linewidth=1)
    ax.set_xlabel("minutes (real-service time); dashed: lower bound")
    ax.set_ylabel("AuraInstances Ready")
    ax.set_title("Time to Ready at 110 req/min per credential")
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
