"""Bootstrap intervals: mlflow_steward.stats vs scipy.stats.bootstrap, side by side.

Cases (9,999 resamples, 95%, percentile and BCa):

* RMSE of synthetic regression residuals (heavy-tailed, so BCa != percentile) on 4,128 rows
  (the size of the housing test set) and on 1,000,000 rows;
* ROC AUC of synthetic scores (with ties) on 4,128 rows.

For each: wall and CPU time (best of a few runs; ours with every core and with one thread), the
ratios, peak traced memory (tracemalloc sees numpy's buffers; measured during the first run),
and both intervals with their endpoint differences in % of the interval width (Monte-Carlo
noise of two independent 9,999-resample runs is ~1% of the width). At 10^6 rows scipy cannot
run as is: its default materialises 9,999 x 10^6 indices (80 GB), and BCa's jackknife evaluates 10^6
leave-one-out samples of 10^6 rows (10^12 values). There scipy's percentile runs
``SCIPY_1M_RESAMPLES`` resamples in batches and its time is scaled to 9,999 (marked "~"), and its
BCa is not run. The whole run is capped at ``BUDGET_S`` seconds: later repeats are skipped.

Prints a markdown table and appends it, with machine and date, to benchmarks/RESULTS.md.
Run: ``.venv/bin/python benchmarks/bootstrap.py [--quick]`` (``--quick``: 4,128-row cases only).
"""

from __future__ import annotations

import datetime as _dt
import gc
import math
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

from mlflow_steward.stats import bootstrap_interval

B = 9_999
SCIPY_1M_RESAMPLES = 200
OURS_1M_TRACED_RESAMPLES = 500  # our memory does not grow with resamples (chunks are reused)
BUDGET_S = 270.0
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START = time.perf_counter()


def _rmse(r, axis=-1):
    return np.sqrt(np.mean(r**2, axis=axis))


def _auc(y, s, axis=-1):
    ranks = stats.rankdata(s, axis=axis)
    n1 = np.sum(y, axis=axis)
    return (np.sum(ranks * y, axis=axis) - n1 * (n1 + 1) / 2) / (n1 * (y.shape[axis] - n1))


def _regression(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, n)
    return y, y + rng.standard_t(6, n)  # heavy tails: BCa differs from percentile


def _classification(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(float)
    return y, np.round(0.35 * y + rng.random(n), 3)


def _over_budget() -> bool:
    return time.perf_counter() - START > BUDGET_S


def _peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _measure(fn, repeats: int, trace: bool = True) -> dict:
    """Run ``fn`` once under tracemalloc (peak traced MB: numpy buffers included), then
    ``repeats - 1`` more times without it (skipped once over budget). Best wall and CPU
    seconds over all runs; CPU is summed over threads, and is less sensitive to a busy machine
    than wall time for single-threaded code. ``trace=False``: no tracemalloc at all."""
    walls, cpus, result, peak = [], [], None, float("nan")
    gc.collect()
    if trace:
        tracemalloc.start()
    for i in range(repeats):
        if i == 1 and trace:
            tracemalloc.stop()
        if i and _over_budget():
            break
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if i == 0 and trace:
            peak = tracemalloc.get_traced_memory()[1] / 1e6
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    return {"wall": min(walls), "cpu": min(cpus), "mb": peak, "result": result}


def run_case(label, metric, data, scipy_stat, paired, method, *, n, repeats, big=False):
    y, p = data
    scipy_data = (y, p) if paired else (y - p,)

    def ours(n_jobs=None, n_resamples=B):
        return bootstrap_interval(
            metric, y, p, method=method, n_resamples=n_resamples, random_state=0, n_jobs=n_jobs
        )

    if big:  # tracemalloc would time its own bookkeeping of ~10^4 chunks: trace a short run
        mine = _measure(ours, repeats, trace=False)
        mine["mb"] = _peak_mb(lambda: ours(n_resamples=OURS_1M_TRACED_RESAMPLES))
    else:
        mine = _measure(ours, repeats)
    single = _measure(lambda: ours(1), repeats) if not big else None
    scipy_repeats = 1 if big or paired else repeats

    row = {"case": label, "n": n, "method": method, "ours": mine, "ours1": single}
    row.update(scipy=None, scale=1.0)
    if big and method == "BCa":
        row["note"] = "scipy BCa at 10^6 rows not run: its jackknife is O(n^2) (10^12 values)"
        return row
    kwargs = {"method": method, "n_resamples": B, "rng": 1, "paired": paired}
    if big:
        kwargs.update(n_resamples=SCIPY_1M_RESAMPLES, batch=10)
        row["scale"] = B / SCIPY_1M_RESAMPLES
        row["note"] = (
            f"scipy at 10^6 rows: {SCIPY_1M_RESAMPLES} resamples in batches of 10 (its default "
            f"would allocate 9,999 x 10^6 indices, 80 GB), times scaled x{row['scale']:.0f} (~); "
            f"our peak memory there is from a {OURS_1M_TRACED_RESAMPLES}-resample run "
            f"(tracemalloc's bookkeeping of ~10^4 chunks would distort the timed run)"
        )
    elif paired:
        kwargs["batch"] = 500  # rankdata on all 9,999 x n at once would need ~2 GB

    def theirs():
        return stats.bootstrap(scipy_data, scipy_stat, **kwargs).confidence_interval

    row["scipy"] = _measure(theirs, scipy_repeats)
    if scipy_repeats > 1 and not _over_budget():  # ours again after scipy: both see the same load
        again = _measure(ours, repeats)
        mine.update(wall=min(mine["wall"], again["wall"]), cpu=min(mine["cpu"], again["cpu"]))
    return row


def _fmt_s(seconds: float | None, approx: bool = False) -> str:
    if seconds is None or math.isnan(seconds):
        return "n/a"
    return ("~" if approx else "") + (f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}")


def table(rows: list[dict]) -> str:
    head = (
        "| case | rows | method | scipy wall s | scipy CPU s | ours wall s | ours 1-thread "
        "wall s | ours 1-thread CPU s | speed-up wall | speed-up CPU (1 thread) | peak MB "
        "scipy / ours | scipy interval | ours interval | ours - scipy (% of width) |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n"
    )
    lines = []
    for r in rows:
        mine, single, theirs = r["ours"], r["ours1"], r["scipy"]
        o = mine["result"]
        approx = r["scale"] != 1.0
        if theirs is not None:
            s = theirs["result"]
            s_wall, s_cpu = theirs["wall"] * r["scale"], theirs["cpu"] * r["scale"]
            w = s.high - s.low
            diff = f"{100 * (o.low - s.low) / w:+.1f} / {100 * (o.high - s.high) / w:+.1f}"
            their_iv = f"[{s.low:.5f}, {s.high:.5f}]"
            up_wall = f"{'~' if approx else ''}{s_wall / mine['wall']:.1f}x"
            up_cpu = f"{s_cpu / single['cpu']:.1f}x" if single else "n/a"
            s_mb = f"{theirs['mb']:.0f}"
        else:
            s_wall = s_cpu = None
            diff = their_iv = up_wall = up_cpu = s_mb = "n/a"
        lines.append(
            f"| {r['case']} | {r['n']:,} | {r['method']} | {_fmt_s(s_wall, approx)} | "
            f"{_fmt_s(s_cpu, approx)} | {_fmt_s(mine['wall'])} | "
            f"{_fmt_s(single and single['wall'])} | {_fmt_s(single and single['cpu'])} | "
            f"{up_wall} | {up_cpu} | {s_mb} / {mine['mb']:.0f} | {their_iv} | "
            f"[{o.low:.5f}, {o.high:.5f}] | {diff} |"
        )
    notes = sorted({r["note"] for r in rows if r.get("note")})
    return head + "\n".join(lines) + "".join(f"\n\n{n}." for n in notes)


def machine() -> str:
    cpu = platform.processor() or "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}; load average at start {load:.1f}"
    )


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    header = machine()
    print(header, flush=True)
    small = 4_128
    cases = [
        ("RMSE", "rmse", _regression(small), _rmse, False, small, 5, False),
        ("ROC AUC", "roc_auc", _classification(small), _auc, True, small, 3, False),
    ]
    if not quick:
        cases.append(("RMSE", "rmse", _regression(1_000_000), _rmse, False, 1_000_000, 1, True))
    rows = []
    for label, metric, data, stat, paired, n, repeats, big in cases:
        for method in ("percentile", "BCa"):
            if _over_budget():
                print(f"budget of {BUDGET_S:.0f} s spent: skipping {label} {n:,} {method}")
                continue
            row = run_case(label, metric, data, stat, paired, method, n=n, repeats=repeats, big=big)
            rows.append(row)
            theirs = row["scipy"]
            print(
                f"{label} n={n:,} {method}: ours {row['ours']['wall']:.3f} s, scipy "
                f"{_fmt_s(theirs and theirs['wall'] * row['scale'], row['scale'] != 1)} s",
                flush=True,
            )
    text = table(rows)
    print("\n" + text)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    section = (
        f"\n## Bootstrap intervals: ours vs scipy.stats.bootstrap ({stamp})\n\n"
        f"Machine: {header}. {B:,} resamples, 95%, total run "
        f"{time.perf_counter() - START:.0f} s. `benchmarks/bootstrap.py`"
        f"{' --quick' if quick else ''}.\n\n{text}\n"
    )
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nEach benchmark in `benchmarks/` appends a dated section "
            "here (machine, versions, table).\n"
        )
    with RESULTS.open("a") as fh:
        fh.write(section)


if __name__ == "__main__":
    main(sys.argv[1:])
