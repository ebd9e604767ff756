"""The results index: DuckDB tables over run folders, so leaderboards and win rates are queries.

Built from each run's ``manifest.json`` and ``metrics.json`` (+ ``execution.json``) only, never
from samples, so a leaderboard over thousands of runs stays interactive. The index is
incremental: a ``folders`` table keeps each folder's signature (size and mtime of those three
files), and a refresh re-reads only folders that are new or whose signature changed, and drops
folders that are gone. Persisted (``runs/index.duckdb`` by default, see ``commands/results.py``),
a second leaderboard over 2,000 unchanged folders costs a directory scan and a few thousand
``stat`` calls. A folder that cannot be read (damaged manifest or metrics, a finished run without
metrics.json, samples without a manifest) is kept in ``folders`` with its one-line ``problem``,
so every refresh reports it again, warm or cold, and none is skipped silently.

Tables:
- ``runs``: one row per run folder (model, status, versions, seed, timing, cost).
- ``results``: one row per run x benchmark x variant with the primary metric, its CI, counts,
  tokens, cost, latency and taxonomy category. ``variant = ''`` is the benchmark's headline
  (in a multi-variant run, the headline variant's figures). Every row carries its own counts:
  ``n`` samples, ``n_scored`` (the CI's n), unparseable, unscored, errors and not applicable
  for that variant, never a total pooled over the run's other variants. Tokens, cost and
  latency stay per benchmark (whole run). ``scale`` is ``"1-5"`` for a primary on its own
  scale (a rating), NULL for a share in [0, 1]; ``path`` is the run folder.
- ``folders``: every folder seen, its signature and its problem (NULL when readable).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medevals.errors import RunError
from medevals.runs.folder import EXECUTION, JOURNAL, MANIFEST, METRICS, SAMPLES, RunFolder
from medevals.scoring.metrics import headline_counts

#: Bumped whenever a table changes: an index file of another version is rebuilt from the folders.
SCHEMA_VERSION = "2"

RUNS_COLUMNS = [
    ("run_id", "VARCHAR"),
    ("path", "VARCHAR"),
    ("model", "VARCHAR"),
    ("backend", "VARCHAR"),
    ("model_name", "VARCHAR"),
    ("status", "VARCHAR"),
    ("created_at", "VARCHAR"),
    ("ended_at", "VARCHAR"),
    ("medevals_version", "VARCHAR"),
    ("git_sha", "VARCHAR"),
    ("seed", "INTEGER"),
    ("repeats", "INTEGER"),
    ("item_limit", "INTEGER"),
    ("config_hash", "VARCHAR"),
]

RESULTS_COLUMNS = [
    ("run_id", "VARCHAR"),
    ("model", "VARCHAR"),
    ("benchmark", "VARCHAR"),
    ("variant", "VARCHAR"),
    ("category", "VARCHAR"),
    ("subcategory", "VARCHAR"),
    ("metric", "VARCHAR"),
    ("value", "DOUBLE"),
    ("ci_low", "DOUBLE"),
    ("ci_high", "DOUBLE"),
    ("n", "INTEGER"),
    ("n_scored", "INTEGER"),
    ("n_unparseable", "INTEGER"),
    ("n_errors", "INTEGER"),
    ("n_unscored", "INTEGER"),
    ("n_not_applicable", "INTEGER"),
    ("prompt_tokens", "BIGINT"),
    ("completion_tokens", "BIGINT"),
    ("cost_usd", "DOUBLE"),
    ("latency_p50", "DOUBLE"),
    ("latency_p95", "DOUBLE"),
    ("data_hash", "VARCHAR"),
    ("split", "VARCHAR"),
    ("scale", "VARCHAR"),
    ("path", "VARCHAR"),
]

FOLDERS_COLUMNS = [("path", "VARCHAR"), ("sig", "VARCHAR"), ("problem", "VARCHAR")]

TABLES = {"runs": RUNS_COLUMNS, "results": RESULTS_COLUMNS, "folders": FOLDERS_COLUMNS}


def _ddl(table: str) -> str:
    return f"CREATE TABLE {table} (" + ", ".join(f"{c} {t}" for c, t in TABLES[table]) + ")"


RUNS_DDL = _ddl("runs")
RESULTS_DDL = _ddl("results")


@dataclass
class Refresh:
    """What one refresh of the index did: folders found, re-read, reused from the index, dropped,
    and every unreadable folder as (path, one-line problem)."""

    found: int = 0
    read: int = 0
    reused: int = 0
    removed: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


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


def _stat_sig(folder: str) -> str | None:
    """Size and mtime of manifest, metrics and execution.json: any rewrite changes it. None when
    the folder has no manifest."""
    parts: list[str] = []
    for name in (MANIFEST, METRICS, EXECUTION):
        try:
            st = os.stat(os.path.join(folder, name))
        except FileNotFoundError:
            if name == MANIFEST:
                return None
            parts.append("-")
        except OSError as e:  # permission: the read names it
            parts.append(f"?{e.errno}")
        else:
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


#: Signature of a folder with run data but no manifest (reported, never indexed as a run).
NO_MANIFEST = "no-manifest"


def discover(paths: Iterable[Path | str]) -> dict[str, str]:
    """{folder path: signature} for run folders given directly or one level below a runs
    directory. A subfolder with samples or a journal but no manifest is included (signature
    ``NO_MANIFEST``) so it is reported; other subfolders (hidden ones, caches) are not runs."""
    found: dict[str, str] = {}
    for p in map(Path, paths):
        sig = _stat_sig(str(p))
        if sig is not None:
            found[str(p)] = sig
            continue
        if not p.is_dir():
            raise RunError(f"{p}: neither a run folder nor a directory of run folders")
        with os.scandir(p) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        for e in entries:
            try:
                if not e.is_dir():
                    continue
            except OSError:
                continue
            sig = _stat_sig(e.path)
            if sig is not None:
                found[e.path] = sig
            elif any(os.path.exists(os.path.join(e.path, n)) for n in (SAMPLES, JOURNAL)):
                found[e.path] = NO_MANIFEST
    return found


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _scale(mm: dict[str, Any]) -> str | None:
    s = mm.get("scale")
    if isinstance(s, list | tuple) and len(s) == 2:
        return f"{s[0]}-{s[1]}"
    return None


def rows_for(folder: RunFolder) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """(runs row, results rows) of one folder; raises ``RunError`` for a damaged manifest or
    metrics.json, and for a finished run without metrics.json."""
    m = folder.read_manifest()
    path = str(folder.path)
    run_row = _run_row(m, path)
    results: list[tuple[Any, ...]] = []
    if not folder.metrics_path.exists():
        if m.status in ("complete", "incomplete"):
            raise RunError(
                f"{folder.path}: status {m.status} but no {METRICS}; "
                f"`medevals rescore {folder.path}` writes it from the samples"
            )
        return run_row, results
    metrics = folder.read_metrics()
    records = {b.name: b for b in m.benchmarks}
    for name, b in (metrics.get("benchmarks") or {}).items():
        if not isinstance(b, dict):
            raise RunError(f"{folder.metrics_path}: benchmark '{name}' is not an object")
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
                _scale(mm),
                path,
            )

        results.append(row("", (b.get("metrics") or {}).get(prim), headline_counts(b)))
        for variant, vm in (b.get("variants") or {}).items():
            # metrics.json written before per-variant counts: the variant's CI n is all it has
            counts = vm if "n_scored" in vm else {"n_scored": vm.get("n")}
            results.append(row(variant, vm, counts))
    return run_row, results


def read_folder(path: str, sig: str) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]], str | None]:
    """(runs row or None, results rows, problem or None): a damaged folder is a problem line,
    never an exception, so one bad folder among thousands costs one line."""
    if sig == NO_MANIFEST:
        return None, [], f"{path}: run data but no {MANIFEST} (not a readable run folder)"
    folder = RunFolder(path)
    try:
        return (*rows_for(folder), None)
    except RunError as e:
        problem = str(e)
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as e:  # a malformed value
        problem = f"{path}: unreadable ({type(e).__name__}: {' '.join(str(e).split())})"
    run_row = None
    # a readable manifest with damaged metrics still shows as a run (its status, its model)
    with contextlib.suppress(RunError, OSError, ValueError):
        run_row = _run_row(folder.read_manifest(), path)
    return run_row, [], problem


def _run_row(m: Any, path: str) -> tuple[Any, ...]:
    return (
        m.run_id,
        path,
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


def _insert(con: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert as one columnar statement (``unnest`` of typed lists): DuckDB's
    ``executemany`` costs ~0.7 ms a row, this ~25 us."""
    if not rows:
        return
    cols = TABLES[table]
    lists = [list(c) for c in zip(*rows, strict=True)]
    select = ", ".join(f"unnest(?::{t}[])" for _, t in cols)
    con.execute(f"INSERT INTO {table} SELECT {select}", lists)


def _ensure_schema(con: Any) -> None:
    """Create the tables, or rebuild them when the file holds another schema version."""
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    version = None
    if "meta" in have:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = row[0] if row else None
    if version == SCHEMA_VERSION and set(TABLES) <= have:
        return
    for t in (*TABLES, "meta"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    for t in TABLES:
        con.execute(_ddl(t))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema', ?)", [SCHEMA_VERSION])


def refresh(con: Any, paths: Iterable[Path | str]) -> Refresh:
    """Bring the index in line with the folders under ``paths``: re-read new and changed
    folders, drop those gone, keep the rest. One transaction: a kill mid-way leaves the
    previous index whole."""
    found = discover(paths)
    stored = dict(con.execute("SELECT path, sig FROM folders").fetchall())
    stale = [p for p, s in stored.items() if found.get(p) != s]
    fresh = [p for p, s in found.items() if stored.get(p) != s]
    runs: list[tuple[Any, ...]] = []
    results: list[tuple[Any, ...]] = []
    folders: list[tuple[Any, ...]] = []
    for p in fresh:
        run_row, res, problem = read_folder(p, found[p])
        if run_row is not None:
            runs.append(run_row)
        results.extend(res)
        folders.append((p, found[p], problem))
    con.execute("BEGIN TRANSACTION")
    try:
        if stale:
            for t in TABLES:
                con.execute(f"DELETE FROM {t} WHERE path IN (SELECT unnest(?::VARCHAR[]))", [stale])
        _insert(con, "runs", runs)
        _insert(con, "results", results)
        _insert(con, "folders", folders)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    problems = con.execute(
        "SELECT path, problem FROM folders WHERE problem IS NOT NULL ORDER BY path"
    ).fetchall()
    return Refresh(
        found=len(found),
        read=len(fresh),
        reused=len(found) - len(fresh),
        removed=len([p for p in stale if p not in found]),
        problems=[(str(a), str(b)) for a, b in problems],
    )


def open_index(paths: Iterable[Path | str], db: str = ":memory:") -> tuple[Any, Refresh]:
    """A connection to the index at ``db`` (a file is updated incrementally), refreshed from
    ``paths``. Raises ``duckdb.Error`` when the file cannot be opened (held by another
    process, not a DuckDB file, read-only folder)."""
    import duckdb

    con = duckdb.connect(db)
    try:
        _ensure_schema(con)
        return con, refresh(con, paths)
    except BaseException:
        con.close()
        raise


def build_index(paths: Iterable[Path | str], db: str = ":memory:") -> Any:
    """The index connection (unreadable folders left out: ``open_index`` reports them)."""
    return open_index(paths, db)[0]


def write_index(runs_dir: Path) -> Path:
    """Bring ``runs_dir/index.duckdb`` up to date (incrementally) and return its path."""
    target = runs_dir / "index.duckdb"
    con, _ = open_index([runs_dir], str(target))
    con.close()
    return target


BOARD_SQL = """
WITH latest AS (  -- the newest finished result per model x benchmark (whole benchmark, not variants):
  -- complete, or incomplete (every unit tried, some failed for good; n_errors says how many)
  SELECT r.*, u.created_at,
         row_number() OVER (PARTITION BY r.model, r.benchmark ORDER BY u.created_at DESC, r.path DESC) AS k
  FROM results r JOIN runs u ON u.path = r.path
  WHERE r.variant = '' AND u.status IN ('complete', 'incomplete') AND r.value IS NOT NULL
)
SELECT * EXCLUDE (k) FROM latest WHERE k = 1
"""

LEADERBOARD_SQL = f"""
SELECT model, benchmark, category, value, ci_low, ci_high, n_scored, n_errors, n_unscored, cost_usd, run_id
FROM ({BOARD_SQL}) ORDER BY benchmark, value DESC, model
"""

WIN_RATE_SQL = """
WITH best AS (SELECT model, benchmark, value FROM ({leaderboard}))
SELECT a.model AS model,
       avg(CASE WHEN a.value > b.value THEN 1.0 WHEN a.value = b.value THEN 0.5 ELSE 0.0 END) AS win_rate,
       count(*) AS comparisons,
       count(DISTINCT a.benchmark) AS benchmarks
FROM best a JOIN best b ON a.benchmark = b.benchmark AND a.model <> b.model
GROUP BY a.model ORDER BY win_rate DESC, model
"""

#: Every ordered pair of models with a shared benchmark: wins, ties and losses of ``a`` against
#: ``b`` on the leaderboard's values (higher is better), and their win rate (ties = 1/2).
PAIRWISE_SQL = f"""
WITH best AS (SELECT model, benchmark, value FROM ({BOARD_SQL}))
SELECT a.model AS model_a, b.model AS model_b,
       count(*) FILTER (WHERE a.value > b.value) AS wins,
       count(*) FILTER (WHERE a.value = b.value) AS ties,
       count(*) FILTER (WHERE a.value < b.value) AS losses,
       count(*) AS shared,
       avg(CASE WHEN a.value > b.value THEN 1.0 WHEN a.value = b.value THEN 0.5 ELSE 0.0 END) AS win_rate
FROM best a JOIN best b ON a.benchmark = b.benchmark AND a.model <> b.model
GROUP BY ALL ORDER BY model_a, model_b
"""

#: Per model and taxonomy category: the unweighted mean of the primary over the category's
#: benchmarks, shares only (a primary on its own scale, a 1-5 rating, cannot be averaged with
#: shares), as the run report's category table does.
CATEGORY_SQL = f"""
SELECT model, coalesce(category, '(uncategorised)') AS category, avg(value) AS mean,
       count(*) AS benchmarks
FROM ({BOARD_SQL}) WHERE scale IS NULL
GROUP BY ALL ORDER BY category, mean DESC, model
"""

#: Per model over its leaderboard benchmarks: the mean share, the cost of those runs and the
#: cost per point (dollars per percentage point: total cost / (100 x sum of the shares), over
#: the benchmarks whose cost is known, counted in ``costed``). A benchmark's cost is its whole
#: run's (all variants), its value the headline's.
MODELS_SQL = f"""
SELECT model,
       count(*) AS benchmarks,
       avg(value) FILTER (WHERE scale IS NULL) AS mean,
       count(*) FILTER (WHERE scale IS NULL) AS shares,
       sum(cost_usd) AS cost_usd,
       count(cost_usd) AS costed,
       sum(cost_usd) FILTER (WHERE scale IS NULL AND cost_usd IS NOT NULL)
         / nullif(100 * sum(value) FILTER (WHERE scale IS NULL AND cost_usd IS NOT NULL), 0) AS cost_per_point,
       sum(n_errors) AS n_errors
FROM ({BOARD_SQL}) GROUP BY model ORDER BY mean DESC NULLS LAST, model
"""


def leaderboard(con: Any) -> list[tuple[Any, ...]]:
    return con.execute(LEADERBOARD_SQL).fetchall()


def _dicts(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def board(con: Any) -> list[dict[str, Any]]:
    """Every column of the leaderboard's rows (newest finished run per model x benchmark), with
    ``cost_per_point`` (dollars per percentage point, shares with a known cost only)."""
    return _dicts(
        con,
        f"""SELECT *, CASE WHEN scale IS NULL AND value > 0 THEN cost_usd / (100 * value) END
            AS cost_per_point FROM ({BOARD_SQL}) ORDER BY benchmark, value DESC, model""",
    )


def pairwise_wins(con: Any) -> list[dict[str, Any]]:
    return _dicts(con, PAIRWISE_SQL)


def category_means(con: Any) -> list[dict[str, Any]]:
    return _dicts(con, CATEGORY_SQL)


def model_summary(con: Any) -> list[dict[str, Any]]:
    return _dicts(con, MODELS_SQL)


def pair_runs(con: Any, model_a: str, model_b: str) -> list[tuple[str, str, str]]:
    """(benchmark, run folder of A, run folder of B) for every benchmark both models have on the
    leaderboard: the same newest finished runs the leaderboard shows, ready to pair unit by unit."""
    rows = con.execute(
        f"""WITH board AS ({BOARD_SQL})
        SELECT a.benchmark, a.path, b.path
        FROM board a JOIN board b ON a.benchmark = b.benchmark
        WHERE a.model = ? AND b.model = ? ORDER BY a.benchmark""",
        [model_a, model_b],
    ).fetchall()
    return [(str(x), str(y), str(z)) for x, y, z in rows]


def win_rates(con: Any) -> list[tuple[Any, ...]]:
    """Head-to-head win rate per model over shared benchmarks (ties count half), HELM-style."""
    return con.execute(WIN_RATE_SQL.format(leaderboard=LEADERBOARD_SQL)).fetchall()
