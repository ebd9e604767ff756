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
