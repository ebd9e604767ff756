"""Write a generated multiple-choice benchmark (JSONL + YAML custom spec): robustness tests and
``perf/throughput.py`` use the same rows.

Item i is "item i" with options A-D and answer ABCD[i % 4]; ``fake_openai.mcq_by_item_number``
answers it, right for 4 items in 5, so a correct run scores exactly 80%.
"""

from __future__ import annotations

import json
from pathlib import Path


def write_bench(folder: Path, n: int, name: str = "gen") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "items.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = {
                "id": f"q{i}",
                "question": f"Generated question for item {i}: which of the options below is correct?",
                "options": {k: f"option {k} of item {i}" for k in "ABCD"},
                "answer": "ABCD"[i % 4],
            }
            fh.write(json.dumps(row) + "\n")
    spec = folder / "spec.yaml"
    spec.write_text(
        f"name: {name}\ndata: items.jsonl\n"
        "fields: {id: id, question: question, options: options, answer: answer}\n"
        "options: {mode: generate}\n",
        encoding="utf-8",
    )
    return spec
