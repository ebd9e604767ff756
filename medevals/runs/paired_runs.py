"""Two run folders compared unit by unit: the paired difference of every metric on shared units.

Two models (or two strategies, two prompts) answered the same items: comparing their two
accuracies as if independent wastes the pairing, and an overlap of two CIs says little. Units
are matched by ``benchmark/item/variant/repeat`` (the unit id); a unit counts when both runs
scored it (an error, an unscored judge verdict or a not-applicable variant on either side
leaves it out, counted by reason). When each run holds a single variant of a benchmark under
different names (a zero-shot run against a cot run) the items are matched across the two names.

Per benchmark, variant and metric (the primary ``Score.value`` and each ``Score.values`` key
both runs carry) the difference B - A gets a cluster-bootstrap CI; a proportion (the
protocol's ``metric_spec``) also gets McNemar's exact and mid-p tests and the lists of units
only one run got right. Statistics live in ``scoring/paired.py``.

Only the score of each line is parsed (``score_rows``): comparing two 100,000-sample runs reads
the files once, without building a Sample per line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from medevals.errors import RunError
from medevals.runs.folder import RunFolder
from medevals.scoring.paired import PairedDifference, paired_difference
from medevals.scoring.stats import is_binary

#: Reasons a unit of one run has no partner score, in the order they are shown.
UNPAIRED = ("only in A", "only in B", "error", "unscored", "not applicable")


@dataclass(frozen=True)
class ScoreRow:
    """What a comparison needs from one sample line; ``offset`` finds the whole sample again."""

    unit_id: str
    benchmark: str
    item_id: str
    variant: str
    repeat: int
    error: bool
    score: dict[str, Any] | None
    offset: int
    line: int

    @property
    def status(self) -> str:
        """``scored``, or why the unit has no primary value (one of UNPAIRED's reasons)."""
        if self.error:
            return "error"
        sc = self.score
        if sc is None:
            return "unscored"
        if sc.get("applicable") is False:
            return "not applicable"
        return "unscored" if _num(sc.get("value")) is None else "scored"


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


_DEC = json.JSONDecoder()
_HEAD = '{"unit_id":'
_TAIL = ',"score":'


def _fast_row(line: str) -> tuple[str, str, str, dict[str, Any] | None, bool] | None:
    """(unit id, benchmark, item id, score, error) read from the ends of a line as
    ``Sample.model_dump_json`` writes it, or None to fall back to a full parse.

    The head holds ``unit_id``, ``benchmark`` and the item's ``id``; the tail ``score`` then only
    ``error``, ``started_at``, ``duration_s``. A bare ``,"score":`` cannot occur inside a JSON
    string (its quotes would be escaped), and the decoded score must be followed by
    ``,"error":`` to be taken, so a ``score`` key nested in the score's own values is never
    mistaken for it.
    """
    if not line.startswith(_HEAD):
        return None
    try:
        uid, i = _DEC.raw_decode(line, len(_HEAD))
        if not line.startswith(',"benchmark":', i):
            return None
        bench, i = _DEC.raw_decode(line, i + len(',"benchmark":'))
        if not line.startswith(',"item":{"id":', i):
            return None
        item_id, _ = _DEC.raw_decode(line, i + len(',"item":{"id":'))
        end = len(line)
        while True:
            at = line.rfind(_TAIL, 0, end)
            if at < 0:
                return None
            score, j = _DEC.raw_decode(line, at + len(_TAIL))
            if line.startswith(',"error":', j) and (score is None or isinstance(score, dict)):
                error, _ = _DEC.raw_decode(line, j + len(',"error":'))
                break
            end = at
    except (ValueError, IndexError):
        return None
    if not all(isinstance(x, str) for x in (uid, bench, item_id)):
        return None
    return uid, bench, item_id, score, error is not None


def _variant_repeat(uid: str, bench: str, item_id: str) -> tuple[str, int] | None:
    prefix = f"{bench}/{item_id}/"
    if not uid.startswith(prefix):
        return None
    variant, sep, rep = uid[len(prefix) :].rpartition("/r")
    if not sep or not rep.isdigit():
        return None
    return variant, int(rep)


def score_rows(folder: RunFolder) -> Iterator[ScoreRow]:
    """The latest line of each unit in ``folder``'s samples.jsonl, scores only (a torn last line
    is skipped, as everywhere). Superseded lines (a failed unit later retried) are yielded too:
    callers keep the last row per unit id."""
    path = folder.samples_path
    if not path.exists():
        return
    with path.open("rb") as fh:
        offset = 0
        for n, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                return
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise RunError(f"{path}:{n}: unreadable sample (not valid UTF-8 at byte {e.start})") from None
            fast = _fast_row(line)
            vr = _variant_repeat(fast[0], fast[1], fast[2]) if fast else None
            if fast is not None and vr is not None:
                uid, bench, item_id, score, error = fast
                variant, repeat = vr
            else:  # another writer's key order: parse the whole line
                try:
                    d = json.loads(line)
                    uid, bench = str(d["unit_id"]), str(d["benchmark"])
                    item_id, variant = str(d["item"]["id"]), str(d.get("variant", "default"))
                    repeat, score, error = int(d.get("repeat", 0)), d.get("score"), d.get("error") is not None
                except (ValueError, KeyError, TypeError) as e:
                    raise RunError(f"{path}:{n}: unreadable sample ({e})") from None
            yield ScoreRow(uid, bench, item_id, variant, repeat, error, score, offset, n)
            offset += len(raw)


def latest_rows(folder: RunFolder) -> dict[str, ScoreRow]:
    rows: dict[str, ScoreRow] = {}
    for r in score_rows(folder):
        rows[r.unit_id] = r
    return rows


def read_sample_at(folder: RunFolder, row: ScoreRow) -> Any:
    """The whole Sample of ``row`` (for the report's drill-down), read by seeking to its line."""
    from medevals.schema import Sample

    with folder.samples_path.open("rb") as fh:
        fh.seek(row.offset)
        line = fh.readline()
    try:
        return Sample.model_validate_json(line)
    except ValueError as e:
        raise RunError(f"{folder.samples_path}:{row.line}: unreadable sample ({e})") from None


@dataclass
class MetricPair:
    """One metric of one benchmark/variant compared on the units both runs scored."""

    metric: str
    primary: bool
    proportion: bool
    scale: tuple[float, float] | None
    diff: PairedDifference


@dataclass
class VariantPair:
    """A benchmark under one variant (strategy, probe ...) in both runs."""

    benchmark: str
    variant_a: str
    variant_b: str
    n_a: int
    n_b: int
    unpaired: dict[str, int]
    metrics: list[MetricPair]
    #: Unit pairs (A row, B row) A got right and B wrong, and the reverse (primary proportion only).
    only_a: list[tuple[ScoreRow, ScoreRow]] = field(default_factory=list)
    only_b: list[tuple[ScoreRow, ScoreRow]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.variant_a if self.variant_a == self.variant_b else f"{self.variant_a} vs {self.variant_b}"

    @property
    def primary(self) -> MetricPair | None:
        return next((m for m in self.metrics if m.primary), None)


@dataclass
class RunPair:
    """Run B compared with run A (the baseline): one VariantPair per benchmark x variant."""

    a: RunFolder
    b: RunFolder
    variants: list[VariantPair]
    #: Benchmarks only one of the two runs has (nothing to pair).
    only_in_a: list[str]
    only_in_b: list[str]


def _protocols(*manifests: Any) -> dict[str, Any]:
    """Each benchmark's protocol as the first manifest recorded it (for its primary metric's name
    and its metric specs); None when it cannot be rebuilt (values then decide: all 0/1 is a
    proportion)."""
    from medevals.errors import MedevalsError
    from medevals.protocols.registry import protocol_from_record

    out: dict[str, Any] = {}
    for man in manifests:
        for rec in man.benchmarks:
            if rec.name not in out or out[rec.name] is None:
                try:
                    out[rec.name] = protocol_from_record(rec, "manifest.json")
                except (MedevalsError, ImportError):
                    out[rec.name] = None
    return out


def compare_runs(a: RunFolder, b: RunFolder, *, seed: int = 0) -> RunPair:
    """Pair run ``b`` with run ``a`` unit by unit (see the module docstring)."""
    man_a, man_b = a.read_manifest(), b.read_manifest()
    rows_a, rows_b = latest_rows(a), latest_rows(b)
    order: list[str] = []
    variants: dict[tuple[str, str], dict[str, list[ScoreRow]]] = {}
    for side, rows, man in (("a", rows_a, man_a), ("b", rows_b, man_b)):
        for rec in man.benchmarks:
            if rec.name not in order:
                order.append(rec.name)
        for r in rows.values():
            if r.benchmark not in order:
                order.append(r.benchmark)
            variants.setdefault((side, r.benchmark), {}).setdefault(r.variant, []).append(r)
    protocols = _protocols(man_a, man_b)
    declared = {
        (side, rec.name): rec.variants for side, man in (("a", man_a), ("b", man_b)) for rec in man.benchmarks
    }
    out: list[VariantPair] = []
    only_in_a = [n for n in order if ("a", n) in variants and ("b", n) not in variants]
    only_in_b = [n for n in order if ("b", n) in variants and ("a", n) not in variants]
    for bench in order:
        va, vb = variants.get(("a", bench)), variants.get(("b", bench))
        if not va or not vb:
            continue
        names = [v for v in declared.get(("a", bench), []) if v in va] + sorted(va)
        names += [v for v in declared.get(("b", bench), []) if v in vb] + sorted(vb)
        names = list(dict.fromkeys(names))
        if len(va) == 1 and len(vb) == 1 and set(va) != set(vb):
            pairs = [(next(iter(va)), next(iter(vb)))]  # one strategy each, named differently
        else:
            pairs = [(v, v) for v in names]
        for name_a, name_b in pairs:
            out.append(
                _pair_variant(
                    bench, name_a, name_b, va.get(name_a, []), vb.get(name_b, []), protocols.get(bench), seed
                )
            )
    return RunPair(a, b, out, only_in_a, only_in_b)


def _pair_variant(
    bench: str,
    name_a: str,
    name_b: str,
    rows_a: list[ScoreRow],
    rows_b: list[ScoreRow],
    protocol: Any,
    seed: int,
) -> VariantPair:
    by_a = {(r.item_id, r.repeat): r for r in rows_a}
    by_b = {(r.item_id, r.repeat): r for r in rows_b}
    unpaired = dict.fromkeys(UNPAIRED, 0)
    unpaired["only in A"] = sum(1 for k in by_a if k not in by_b)
    unpaired["only in B"] = sum(1 for k in by_b if k not in by_a)
    shared: list[tuple[ScoreRow, ScoreRow]] = []
    for k in sorted(set(by_a) & set(by_b)):
        ra, rb = by_a[k], by_b[k]
        sa, sb = ra.status, rb.status
        if sa == "scored" and sb == "scored":
            shared.append((ra, rb))
        else:  # counted once, by the first reason in UNPAIRED's order
            why = min((s for s in (sa, sb) if s != "scored"), key=UNPAIRED.index)
            unpaired[why] += 1
    clusters = [ra.item_id for ra, _ in shared]
    metrics: list[MetricPair] = []
    primary = getattr(protocol, "primary_metric", None) or "primary"
    # the primary (Score.value), then every Score.values key both runs carry; a values key named
    # for the primary (MCQ's "accuracy") is the primary itself and is not compared twice
    keys: list[str] = []
    for ra, rb in shared:
        vals_b = (rb.score or {}).get("values") or {}
        for k in (ra.score or {}).get("values") or {}:
            if k not in keys and k in vals_b:
                keys.append(k)
    pa = [float(ra.score["value"]) for ra, _ in shared]  # type: ignore[index]
    pb = [float(rb.score["value"]) for _, rb in shared]  # type: ignore[index]
    metrics.append(_metric(primary, True, pa, pb, clusters, protocol, seed))
    for k in sorted(keys):
        if k == primary:
            continue
        xs, ys, cl = [], [], []
        for ra, rb in shared:
            x = _num(((ra.score or {}).get("values") or {}).get(k))
            y = _num(((rb.score or {}).get("values") or {}).get(k))
            if x is not None and y is not None:
                xs.append(x)
                ys.append(y)
                cl.append(ra.item_id)
        if xs:
            metrics.append(_metric(k, False, xs, ys, cl, protocol, seed))
    vp = VariantPair(bench, name_a, name_b, len(by_a), len(by_b), unpaired, metrics)
    if metrics[0].proportion:
        vp.only_a = [(ra, rb) for (ra, rb), x, y in zip(shared, pa, pb, strict=True) if x >= 0.5 > y]
        vp.only_b = [(ra, rb) for (ra, rb), x, y in zip(shared, pa, pb, strict=True) if y >= 0.5 > x]
    return vp


def _metric(
    name: str, primary: bool, a: list[float], b: list[float], clusters: list[str], protocol: Any, seed: int
) -> MetricPair:
    spec = protocol.metric_spec(name) if protocol is not None else None
    if spec is not None:
        proportion = spec.kind == "proportion" and is_binary(a) and is_binary(b)
        scale = spec.scale
    else:
        proportion, scale = is_binary(a) and is_binary(b), None
    diff = paired_difference(a, b, proportion=proportion, clusters=clusters, seed=seed)
    return MetricPair(name, primary, proportion, scale, diff)
