"""The results index: DuckDB tables over run folders, so leaderboards and win rates are queries.

Built from each run's ``manifest.json`` and ``metrics.json`` only (small files), never from
samples, so indexing thousands of runs takes seconds. ``build_index`` returns an in-memory
connection; ``write_index`` persists it as ``index.duckdb`` beside the runs.

Tables:
- ``runs``: one row per run folder (model, status, versions, seed, timing, cost).
- ``results``: one row per run x benchmark x variant with the primary metric, its CI, counts,
  tokens, cost, latency and taxonomy category. ``variant = ''`` is the benchmark's headline
  (in a multi-variant run, the headline variant's figures). Every row carries its own counts:
  ``n`` samples, ``n_scored`` (the CI's n), unparseable, unscored, errors and not applicable
  for that variant, never a total pooled over the run's other variants. Tokens, cost and
  latency stay per benchmark (whole run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from medevals.errors import RunError
from medevals.runs.folder import MANIFEST, RunFolder
from medevals.scoring.metrics import headline_counts

RUNS_DDL = """
CREATE TABLE runs (
  run_id VARCHAR, path VARCHAR, model VARCHAR, backend VARCHAR, model_name VARCHAR, status VARCHAR,
  created_at VARCHAR, ended_at VARCHAR, medevals_version VARCHAR, git_sha VARCHAR, seed INTEGER,
  repeats INTEGER, item_limit INTEGER, config_hash VARCHAR
)"""

RESULTS_DDL = """
CREATE TABLE results (
  run_id VARCHAR, model VARCHAR, benchmark VARCHAR, variant VARCHAR, category VARCHAR, subcategory VARCHAR,
  metric VARCHAR, value DOUBLE, ci_low DOUBLE, ci_high DOUBLE, n INTEGER, n_scored INTEGER,
  n_unparseable INTEGER, n_errors INTEGER, n_unscored INTEGER, n_not_applicable INTEGER,
  prompt_tokens BIGINT, completion_tokens BIGINT,
  cost_usd DOUBLE, latency_p50 DOUBLE, latency_p95 DOUBLE, data_hash VARCHAR, split VARCHAR
)"""


def find_runs(paths: Iterable[Path | str]) -> list[RunFolder]:
    """Run folders given directly, or found one level below a runs directory."""
    out: list[RunFolder] = []
    for p in map(Path, paths):
        if (p / MANIFEST).exists():
            out.append(RunFolder(p))
        elif p.is_dir():
            out.extend(RunFolder(m.parent) for m in sorted(p.glob(f"*/{MANIFEST}")))
        else:
            raise RunError(f"{p}: neither a run folder nor a directory of run folders")
    return out


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def rows_for(folder: RunFolder) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    m = folder.read_manifest()
    run_row = (
        m.run_id,
        str(folder.path),
        m.model.spec,
        m.model.backend,
        m.model.name,
        m.status,
        m.created_at,
        m.ended_at,
        m.medevals_version,
        m.git_sha,
        m.seed,
        m.repeats,
        m.limit,
        m.config_hash,
    )
    results: list[tuple[Any, ...]] = []
    if not folder.metrics_path.exists():
        return run_row, results
    metrics = folder.read_metrics()
    records = {b.name: b for b in m.benchmarks}
    for name, b in (metrics.get("benchmarks") or {}).items():
        rec = records.get(name)
        prim = b.get("primary", "accuracy")
        usage = b.get("usage") or {}
        lat = b.get("latency_s") or {}
        tax = b.get("taxonomy") or {}
        common = (
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            _num(usage.get("cost_usd")),
            _num(lat.get("p50")),
            _num(lat.get("p95")),
            rec.data_hash if rec else None,
            rec.split if rec else None,
        )

        def row(
            variant: str,
            mm: dict[str, Any] | None,
            counts: dict[str, Any],
            *,
            name: str = name,
            prim: str = prim,
            tax: dict[str, Any] = tax,
            common: tuple[Any, ...] = common,
        ) -> tuple[Any, ...]:
            mm = mm or {}
            return (
                m.run_id,
                m.model.spec,
                name,
                variant,
                tax.get("category"),
                tax.get("subcategory"),
                prim,
                _num(mm.get("value")),
                _num(mm.get("ci_low")),
                _num(mm.get("ci_high")),
                counts.get("n"),
                counts.get("n_scored", mm.get("n")),
                counts.get("n_unparseable"),
                counts.get("n_errors"),
                counts.get("n_unscored"),
                counts.get("n_not_applicable"),
                *common,
            )

        results.append(row("", (b.get("metrics") or {}).get(prim), headline_counts(b)))
        for variant, vm in (b.get("variants") or {}).items():
            # metrics.json written before per-variant counts: the variant's CI n is all it has
            counts = vm if "n_scored" in vm else {"n_scored": vm.get("n")}
            results.append(row(variant, vm, counts))
    return run_row, results


def build_index(paths: Iterable[Path | str], db: str = ":memory:") -> Any:
    import duckdb

    con = duckdb.connect(db)
    con.execute("DROP TABLE IF EXISTS runs")
    con.execute("DROP TABLE IF EXISTS results")
    con.execute(RUNS_DDL)
    con.execute(RESULTS_DDL)
    for folder in find_runs(paths):
        try:
            run_row, results = rows_for(folder)
        except RunError:
            continue  # a half-written folder (no manifest yet) is not a result
        con.execute("INSERT INTO runs VALUES (" + ",".join("?" * len(run_row)) + ")", run_row)
        if results:
            con.executemany("INSERT INTO results VALUES (" + ",".join("?" * len(results[0])) + ")", results)
    return con


def write_index(runs_dir: Path) -> Path:
    target = runs_dir / "index.duckdb"
    if target.exists():
        target.unlink()
    con = build_index([runs_dir], str(target))
    con.close()
    return target


LEADERBOARD_SQL = """
WITH latest AS (  -- the newest finished result per model x benchmark (whole benchmark, not variants):
  -- complete, or incomplete (every unit tried, some failed for good; n_errors says how many)
  SELECT r.*, row_number() OVER (PARTITION BY r.model, r.benchmark ORDER BY u.created_at DESC) AS k
  FROM results r JOIN runs u USING (run_id)
  WHERE r.variant = '' AND u.status IN ('complete', 'incomplete') AND r.value IS NOT NULL
)
SELECT model, benchmark, category, value, ci_low, ci_high, n_scored, n_errors, n_unscored, cost_usd, run_id
FROM latest WHERE k = 1 ORDER BY benchmark, value DESC
"""

WIN_RATE_SQL = """
WITH best AS (SELECT model, benchmark, value FROM ({leaderboard}))
SELECT a.model AS model,
       avg(CASE WHEN a.value > b.value THEN 1.0 WHEN a.value = b.value THEN 0.5 ELSE 0.0 END) AS win_rate,
       count(*) AS comparisons,
       count(DISTINCT a.benchmark) AS benchmarks
FROM best a JOIN best b ON a.benchmark = b.benchmark AND a.model <> b.model
GROUP BY a.model ORDER BY win_rate DESC
"""


def leaderboard(con: Any) -> list[tuple[Any, ...]]:
    return con.execute(LEADERBOARD_SQL).fetchall()


def pair_runs(con: Any, model_a: str, model_b: str) -> list[tuple[str, str, str]]:
    """(benchmark, run folder of A, run folder of B) for every benchmark both models have on the
    leaderboard: the same newest finished runs the leaderboard shows, ready to pair unit by unit."""
    rows = con.execute(
        f"""WITH board AS ({LEADERBOARD_SQL})
        SELECT a.benchmark, ra.path, rb.path
        FROM board a JOIN board b ON a.benchmark = b.benchmark
        JOIN runs ra ON ra.run_id = a.run_id JOIN runs rb ON rb.run_id = b.run_id
        WHERE a.model = ? AND b.model = ? ORDER BY a.benchmark""",
        [model_a, model_b],
    ).fetchall()
    return [(str(x), str(y), str(z)) for x, y, z in rows]


def win_rates(con: Any) -> list[tuple[Any, ...]]:
    """Head-to-head win rate per model over shared benchmarks (ties count half), HELM-style."""
    return con.execute(WIN_RATE_SQL.format(leaderboard=LEADERBOARD_SQL)).fetchall()
