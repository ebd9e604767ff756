"""Protocol tables shown in the terminal after a run (those a protocol marks ``"terminal": True``).

Retrieval, RAG and NER headline several numbers per variant (nDCG@10, Recall@k, MRR, MAP;
accuracy with / without retrieval; strict / partial F1 per type) that the one-number run table
cannot show. The HTML report renders every ``extra.tables`` entry; the terminal only the marked ones.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _cell(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        from medevals.report.table import fmt_pct

        return fmt_pct(v)
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) <= 1 else f"{v:.2f}"
    return str(v)


def terminal_tables(metrics: dict[str, Any]) -> list[Table]:
    tables = []
    for name, b in (metrics.get("benchmarks") or {}).items():
        for spec in ((b.get("extra") or {}).get("tables")) or []:
            if not spec.get("terminal"):
                continue
            t = Table(title=f"{name}: {spec.get('title', '')}", title_justify="left")
            for i, col in enumerate(spec.get("columns") or []):
                t.add_column(str(col), justify="left" if i == 0 else "right")
            for row in spec.get("rows") or []:
                t.add_row(*[_cell(c) for c in row])
            tables.append(t)
    return tables
