"""What a benchmark is: data sources (hub and local folder), row mapping, protocol, taxonomy, provenance.

A benchmark module only declares a ``Benchmark`` and its row mappers. Loading resolves
``--data-dir`` / ``$MEDEVALS_DATA`` first (offline), then the upstream Hugging Face hub id
through ``datasets.load_dataset``; with neither, one line says what to pass.

A loader (or hub row mapper) may yield ``Skipped(id, reason)`` instead of an ``Item`` for a row
that cannot be put to a text model as it stands (a question about an image the data does not
ship): it is never silently dropped, but counted by reason in ``LoadedData.skipped``, recorded in
the manifest and shown beside the benchmark's metrics.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medevals.benchmarks.item_store import ItemStore
from medevals.errors import ConfigError, DataError
from medevals.schema import Item, Taxonomy


@dataclass(frozen=True)
class Skipped:
    """A source row left out of the run, and why (counted, never silently dropped)."""

    id: str
    reason: str


LocalLoader = Callable[[Path, str], Iterable["Item | Skipped"]]
"""(benchmark folder, split) -> items. Raise DataError naming file/line/field on bad rows."""

HubRowMapper = Callable[[dict[str, Any], int, str], "Item | Skipped"]
"""(hub row, row index, hub config name) -> Item."""


@dataclass(frozen=True)
class HubSource:
    path: str
    splits: dict[str, str]
    map_row: HubRowMapper
    configs: tuple[str | None, ...] = (None,)
    revision: str | None = None


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    protocol: str
    task_type: str
    taxonomy: Taxonomy
    license: str
    source: str
    description: str
    splits: dict[str, int]
    default_split: str
    local_dir: str | None = None
    load_local: LocalLoader | None = None
    local_files: Callable[[Path, str], list[Path]] | None = None
    hub: HubSource | None = None
    fewshot_split: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    bundled_dir: Path | None = None
    aliases: tuple[str, ...] = ()
    #: Generated benchmarks: ``load_local(folder, split, seed)`` receives the run's ``--seed``.
    seeded: bool = False
    #: Items carry images: a model backend that cannot take them is refused before the first request.
    images: bool = False
    #: ``--set`` options the local loader takes as keyword arguments (e.g. ``images`` for a folder of
    #: images that cannot be redistributed); recorded in the manifest with the protocol options.
    load_options: tuple[str, ...] = ()
    #: Languages its items are written in (each item's ``metadata["language"]``; English when absent):
    #: the prompt templates of these languages are recorded in the manifest.
    languages: tuple[str, ...] = ("en",)
    #: Some items admit several correct options (their target is a list of letters).
    answer_sets: bool = False

    @property
    def size(self) -> int:
        return self.splits.get(self.default_split, 0)


@dataclass
class LoadedData:
    items: ItemStore  # compact: one JSON blob per item
    source: str
    data_hash: str
    split: str
    #: Rows left out, by reason (see ``Skipped``).
    skipped: dict[str, int] = field(default_factory=dict)


class _SkipCounter:
    """Passes items through and counts ``Skipped`` rows by reason."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def filter(self, rows: Iterable[Item | Skipped]) -> Iterator[Item]:
        for row in rows:
            if isinstance(row, Skipped):
                self.counts[row.reason] = self.counts.get(row.reason, 0) + 1
            else:
                yield row


#: Where data is looked for when neither --data-dir nor $MEDEVALS_DATA is given (relative to the
#: working directory): a ``data/`` folder, or the ``shared/data`` beside a clone (the README layout).
DEFAULT_ROOTS = ("data", "../shared/data")


def default_roots() -> list[Path]:
    """The ``DEFAULT_ROOTS`` that exist here, in order."""
    return [Path(r) for r in DEFAULT_ROOTS if Path(r).is_dir()]


def data_root(data_dir: str | Path | None) -> Path | None:
    """``--data-dir``, else ``$MEDEVALS_DATA``, else the first default root that exists."""
    root = data_dir or os.environ.get("MEDEVALS_DATA")
    if root:
        return Path(root).expanduser()
    found = default_roots()
    return found[0] if found else None


def hash_files(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def load(
    bench: Benchmark,
    split: str | None = None,
    data_dir: str | Path | None = None,
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> LoadedData:
    split = split or bench.default_split
    if split not in bench.splits:
        raise ConfigError(
            f"benchmark '{bench.name}' has no split '{split}' (splits: {', '.join(bench.splits)})"
        )
    if bench.bundled_dir is not None:
        return _load_folder(bench, bench.bundled_dir, split, "bundled", seed, options)
    explicit = data_dir or os.environ.get("MEDEVALS_DATA")
    if not explicit:
        looked = [Path(r) / (bench.local_dir or bench.name) for r in DEFAULT_ROOTS]
        for folder in looked:
            if folder.is_dir():
                return _load_folder(bench, folder, split, str(folder), seed, options)
        where = f"; looked in {', '.join(f'./{f}' for f in looked)}"
        if bench.hub is None:
            raise DataError(
                f"benchmark '{bench.name}' is only available from a local folder: pass --data-dir DIR or set "
                f"MEDEVALS_DATA=DIR with DIR/{bench.local_dir or bench.name}/ inside{where}"
            )
        return _load_hub(bench, split, local_hint=where)
    root = data_root(data_dir)
    if root is not None:
        if not root.is_dir():
            raise DataError("data directory does not exist (from --data-dir or $MEDEVALS_DATA)", path=root)
        folder = root / (bench.local_dir or bench.name)
        if not folder.is_dir():
            if bench.hub is None:
                raise DataError(
                    f"no folder '{folder.name}' for benchmark '{bench.name}' in the data directory", path=root
                )
            return _load_hub(bench, split, local_hint=f" (and no folder {folder})")
    return _load_folder(bench, folder, split, str(folder), seed, options)


def _load_folder(
    bench: Benchmark,
    folder: Path,
    split: str,
    source: str,
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> LoadedData:
    assert bench.load_local is not None, f"benchmark {bench.name} has no local loader"
    kw = {k: v for k, v in (options or {}).items() if k in bench.load_options}
    if bench.seeded:
        rows = bench.load_local(folder, split, seed, **kw)  # type: ignore[call-arg]
        source = f"{source} seed={seed}"
    else:
        rows = bench.load_local(folder, split, **kw)  # type: ignore[call-arg]
    files = (
        bench.local_files(folder, split, **kw)  # type: ignore[call-arg]
        if bench.local_files
        else sorted(p for p in folder.iterdir() if p.is_file())
    )
    skips = _SkipCounter()
    items = ItemStore.collect(skips.filter(rows), str(folder))
    if not items:
        raise DataError(f"no items for split '{split}'", path=folder)
    return LoadedData(
        items=items, source=f"local:{source}", data_hash=hash_files(files), split=split, skipped=skips.counts
    )


def _load_hub(bench: Benchmark, split: str, local_hint: str = "") -> LoadedData:
    hub = bench.hub
    assert hub is not None
    hint = f"pass --data-dir DIR or set MEDEVALS_DATA=DIR with DIR/{bench.local_dir or bench.name}/ inside{local_hint}"
    if split not in hub.splits:
        raise DataError(
            f"benchmark '{bench.name}': split '{split}' is not on the hub copy ({hub.path}); {hint}"
        )
    from medevals.benchmarks.hub_reach import unreachable_reason

    problem = unreachable_reason()
    if problem:  # at once: datasets would retry for ~30 s before failing
        raise DataError(f"benchmark '{bench.name}': the Hugging Face hub is not usable ({problem}); {hint}")
    try:
        import datasets
    except ImportError as e:  # pragma: no cover - hard dependency
        raise DataError(f"benchmark '{bench.name}': the 'datasets' package is missing; {hint}") from e
    fingerprints: list[str] = []

    def rows() -> Iterator[Item | Skipped]:
        for config in hub.configs:
            try:
                ds = datasets.load_dataset(hub.path, config, split=hub.splits[split], revision=hub.revision)
            except Exception as e:  # network, auth, missing dataset: all mean "use a local folder"
                msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
                raise DataError(
                    f"benchmark '{bench.name}': could not load '{hub.path}' from the hub ({msg}); {hint}"
                ) from None
            fingerprints.append(getattr(ds, "_fingerprint", "") or "")
            for i, row in enumerate(ds):
                yield hub.map_row(dict(row), i, config or "")

    skips = _SkipCounter()
    items = ItemStore.collect(skips.filter(rows()), f"hub:{hub.path}")
    digest = hashlib.sha256("|".join(fingerprints).encode()).hexdigest()
    return LoadedData(
        items=items,
        source=f"hub:{hub.path}",
        data_hash=f"hf-fingerprint:{digest}",
        split=split,
        skipped=skips.counts,
    )
