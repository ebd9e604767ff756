"""Score one scripted reply with a benchmark's MCQ protocol, as a run would (conformance tables)."""

from __future__ import annotations

from fake_openai import make_response

from medevals.benchmarks import registry
from medevals.protocols.mcq import MCQProtocol
from medevals.schema import CallRecord, Item, Score


def score_reply(benchmark: str, item: Item, reply: str, **options: object) -> Score:
    """The score ``benchmark``'s protocol gives ``item`` when the model replied ``reply`` (generate mode)."""
    bench = registry.get(benchmark)
    proto = MCQProtocol(MCQProtocol.parse_options({**bench.options, **options}, where=benchmark), bench)
    call = CallRecord(model="m", kind="chat", request={}, raw=make_response("chat", reply, {}))
    output = {"mode": "generate", "parts": [{"use": "answer", "order": None}]}
    return proto.score(item, output, [call], "zero-shot")


def _numeric_only(folder, split, translation="ja"):
    from medevals.benchmarks.language_exams import _igakuqa_local

    return [
        it
        for it in _igakuqa_local(folder, split, translation)
        if getattr(it, "metadata", {}).get("answer_type")
    ]


def _igakuqa_numeric():
    import dataclasses

    from medevals.benchmarks.language_exams import IGAKUQA

    return dataclasses.replace(IGAKUQA, name="igakuqa-numeric", load_local=_numeric_only)


#: IgakuQA's 12 numeric-entry questions alone, as a benchmark (register with monkeypatch.setitem on
#: ``registry.BUILTIN``: ``"igakuqa-numeric": "mcqscore:IGAKUQA_NUMERIC"``).
IGAKUQA_NUMERIC = _igakuqa_numeric()
