"""The HTML report's paired section (two runs) and the per-sample drill-down (every call, exact
messages, how the answer was read)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from pairfix import call, make_pair, make_run

from medevals.report.html import render_html
from medevals.schema import CallRecord, Sample, Score

EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, f"no section {sid}"
    return m.group(1)


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k == "id" and v:
                self.ids.add(v)
            if k == "href" and v:
                self.hrefs.append(v)


def test_paired_section_shows_differences_tests_and_linked_discordant_items(tmp_path):
    a, b = make_pair(tmp_path)
    page = render_html([a, b])
    sec = _section(page, "paired")
    text = re.sub(r"<[^>]+>", " ", sec)
    assert "+40.0 [" in text and "0.289 / 0.180" in text  # hand-computed in tests/pairfix.py
    assert "2 / 6" in text and "1 only in A, 1 error, 1 unscored" in text
    assert "+25.0 [+25.0, +25.0]" in text  # hamming_score: a continuous value, no McNemar
    # every item only one run got right is a link to a drill-down that exists on the page
    p = _Ids()
    p.feed(page)
    links = [h for h in p.hrefs if h.startswith("#pd-")]
    assert len(links) == 2 + 6 + 1  # zero-shot 2 + 6, cot 1
    assert all(h[1:] in p.ids for h in p.hrefs if h.startswith("#"))
    # the drill-down of q2 holds A's right answer and B's wrong one, side by side
    (q2,) = [c for c in sec.split('<details class="pairdrill">') if c.startswith("<summary><code>q2</code>")]
    assert "The answer is (A)." in q2 and "The answer is (B)." in q2
    assert "openai:alpha" in q2 and "openai:beta" in q2
    nav = re.search(r"<nav.*?</nav>", page, re.S)
    assert nav and 'href="#paired"' in nav.group()


def test_single_run_has_no_paired_section_and_nav_links_only_present_sections(tmp_path):
    a, _ = make_pair(tmp_path)
    page = render_html([a])
    assert 'id="paired"' not in page
    p = _Ids()
    p.feed(page)
    nav = re.search(r"<nav.*?</nav>", page, re.S)
    assert nav is not None
    for href in re.findall(r'href="#([^"]+)"', nav.group()):
        assert href in p.ids, href


def test_paired_drilldowns_are_capped_but_every_id_is_listed(tmp_path):
    a, b = make_pair(tmp_path)
    sec = _section(render_html([a, b], max_samples=3), "paired")
    assert sec.count('<details class="pairdrill">') == 3
    for i in range(4, 10):  # the six only-B items are all named
        assert f"<code>q{i}</code>" in sec
    assert "the rest are listed without a link" in sec


def _ehr_like(tmp_path):
    """One sample with a system prompt, a two-step tool trajectory and a judge call."""
    folder = make_run(tmp_path / "one", "openai:alpha", {"zero-shot": set(), "cot": set()}, 0.5)
    prompt = "Use the FHIR API. " + EVIL
    first = call(
        "openai:alpha", prompt, "GET http://fhir/Observation?patient=1", system="You are an EHR agent."
    )
    fhir = '{"resourceType": "Bundle", "total": 1, "entry": [' + '{"x": 1},' * 5 + "{}]}"
    second = CallRecord(
        model="openai:alpha",
        kind="chat",
        request={
            "messages": [
                *first.request["messages"],
                {"role": "assistant", "content": "GET http://fhir/Observation?patient=1"},
                {"role": "user", "content": f"Here is the response from the GET request:\n{fhir}"},
            ],
            "temperature": 0,
        },
        raw={"choices": [{"message": {"role": "assistant", "content": "FINISH([2.2])"}}]},
    )
    judge = CallRecord(
        role="judge:0",
        model="openai:judge",
        kind="chat",
        request={"messages": [{"role": "user", "content": "Grade this answer: FINISH([2.2])"}]},
        raw={"choices": [{"message": {"role": "assistant", "content": '{"verdict": "correct"}'}}]},
    )
    s = Sample(
        unit_id="medqa/t1/zero-shot/r0",
        benchmark="medqa",
        item=first_item(),
        variant="zero-shot",
        calls=[first, second, judge],
        output={"actions": [{"kind": "GET", "status": 200}]},
        score=Score(
            value=1.0, answer=[2.2], target=[2.2], method="finish-list", explanation="judge: correct"
        ),
    )
    folder.append_sample(s)
    folder.close()
    return folder


def first_item():
    from medevals.schema import Item

    return Item(id="t1", input="What is the latest magnesium?", target=[2.2])


def test_drilldown_shows_every_call_its_new_messages_and_how_the_answer_was_read(tmp_path):
    folder = _ehr_like(tmp_path)
    page = render_html([folder], max_samples=500)
    m = re.search(
        r'<details class="sample s-correct"><summary>.*?<code>t1</code>.*?</div></details>', page, re.S
    )
    assert m, "the t1 sample"
    d = m.group()
    assert "You are an EHR agent." in d and 'class="msg msg-system"' in d  # the system prompt as sent
    assert "#1 candidate" in d and "#2 candidate" in d and "#3 judge:0" in d
    # call 2 repeats no history: only the FHIR response is new (its echo of reply 1 is named)
    assert "messages 1–2 as sent in call #1" in d and "assistant: the reply of call #1" in d
    assert d.count("Use the FHIR API.") == 1
    assert (
        "Here is the response from the GET request:" in d
        and "&quot;resourceType&quot;: &quot;Bundle&quot;" in d
    )
    assert (
        "Grade this answer" in d and "{&quot;verdict&quot;: &quot;correct&quot;}" in d
    )  # judge prompt and verdict
    assert "<dt>read by</dt><dd>finish-list</dd>" in d  # Score.method
    assert "temperature=0" in d
    assert "protocol record (output)" in d
    # untrusted text escaped in the messages too
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in d
    p = _Ids()
    p.feed(page)
    assert "script" not in p.tags and "img" not in p.tags
