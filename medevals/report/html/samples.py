"""The per-sample drill-down: what was sent, what came back, and how it was read.

A sample opens to its score (target, answer, the extraction rule that read the answer, extra
values, explanation), the images the model saw, and every model call in order: its role
(candidate, ``judge:0``, ``patient``, an agent system's inner roles), the exact messages sent
(system prompt, few-shot turns, the CoT instruction, tool results such as an EHR agent's FHIR
responses), the request's settings and the reply (text, tool calls, top logprobs). A multi-turn
conversation resends its history on every call; a call shows only what is new since the
previous call of the same role, so a 20-step trajectory reads as one transcript.

The sample browser streams the first ``max_samples`` samples of each run (never the whole
file), so the page of a 100,000-sample run stays small and opens at once; ``samples.jsonl``
holds everything. Filtering is CSS-only (radio buttons), so the page needs no script.
Every text here is untrusted and goes through ``esc``.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

from medevals.errors import MedevalsError
from medevals.models import openai_format
from medevals.report.html.escape import esc, finite, plain, trunc
from medevals.report.html.formats import fmt_secs
from medevals.report.html.runs import RunView
from medevals.schema import CallRecord, Sample

QUESTION_CHARS = 1500
MESSAGE_CHARS = 6000
RESPONSE_CHARS = 6000
OUTPUT_CHARS = 4000
SHORT_CHARS = 160
#: Samples with more calls than this show each call folded (its summary says who and what).
OPEN_CALLS = 4


MARKERS = {
    "correct": "✓ correct",
    "incorrect": "✗ incorrect",
    "unparseable": "? unparseable",
    "error": "! error",
    "unscored": "– unscored",
    "partial": "≈ partial",
}


def marker(s: Sample) -> str:
    if s.error is not None:
        return "error"
    sc = s.score
    if sc is None or sc.value is None:
        return "unscored"
    if not sc.parsed:
        return "unparseable"
    if sc.value >= 1:
        return "correct"
    if sc.value <= 0:
        return "incorrect"
    return "partial"


def middle_trunc(s: str, n: int) -> str:
    """Keep the head and the tail (a prompt's instruction is often at its end); cut before escaping."""
    if len(s) <= n:
        return s
    half = n // 2
    return f"{s[:half]}\n… [{len(s) - 2 * half:,} characters not shown] …\n{s[-half:]}"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        bits = []
        n_img = 0
        for p in content:
            if isinstance(p, dict) and p.get("type") == "text":
                bits.append(str(p.get("text", "")))
            elif isinstance(p, dict) and p.get("type") in ("image_url", "input_image", "image"):
                n_img += 1
                bits.append(f"[image {n_img}]")
            elif isinstance(p, dict) and p.get("type") in ("input_audio", "audio"):
                bits.append("[audio]")
            else:
                bits.append(plain(p))
        return "\n".join(bits)
    return "" if content is None else plain(content)


def _question_text(s: Sample) -> str:
    item = s.item
    parts: list[str] = []
    if item.context:
        parts.append(f"Context: {item.context}")
    if isinstance(item.input, str):
        parts.append(item.input)
    else:
        parts.extend(f"{m.get('role', '?')}: {_content_text(m.get('content'))}" for m in item.input)
    if item.choices:
        parts.extend(f"{k}. {v}" for k, v in item.choices.items())
    return "\n".join(parts)


def _images_html(s: Sample, run_folder: Path | None, thumbs: dict[str, str | None]) -> str:
    """Thumbnails of the images the model was shown (as stored in the run folder), in order."""
    records = s.output.get("images") if isinstance(s.output, dict) else None
    if not records or not isinstance(records, list):
        return ""
    from medevals.images.thumbs import thumbnail_data_uri

    out = ['<div class="label">images</div><div class="thumbs">']
    for i, rec in enumerate(records, start=1):
        ref = rec.get("ref") if isinstance(rec, dict) else None
        label = rec.get("label") if isinstance(rec, dict) else None
        caption = f"image {i}" + (f" ({label})" if label else "")
        if not isinstance(ref, str):
            continue
        if ref not in thumbs:
            thumbs[ref] = thumbnail_data_uri(run_folder, ref) if run_folder is not None else None
        uri = thumbs[ref]
        if uri is None:
            out.append(f'<span class="thumb muted">{esc(caption)}: not in the run folder</span>')
            continue
        size = f"{rec.get('width')}×{rec.get('height')}" if rec.get("width") else ""
        out.append(
            f'<figure class="thumb"><img src="{esc(uri)}" alt="{esc(trunc(caption, SHORT_CHARS))}">'
            f"<figcaption>{esc(trunc(caption, SHORT_CHARS))} {esc(size)}</figcaption></figure>"
        )
    out.append("</div>")
    return "".join(out)


# ---------------------------------------------------------------------------------------- calls


def _tool_call_text(tc: Any) -> str:
    if not isinstance(tc, dict):
        return plain(tc)
    fn = tc.get("function") if isinstance(tc.get("function"), dict) else {}
    return f"{fn.get('name', '?')}({fn.get('arguments', '')})"


def _message_html(m: Any) -> str:
    if not isinstance(m, dict):
        return f'<div class="msg"><span class="role">?</span><pre>{esc(trunc(plain(m), MESSAGE_CHARS))}</pre></div>'
    role = str(m.get("role", "?"))
    cls = role if role in ("system", "user", "assistant", "tool") else "other"
    label = role + (f" · {m['name']}" if isinstance(m.get("name"), str) else "")
    if role == "tool" and m.get("tool_call_id"):
        label += f" · {m['tool_call_id']}"
    text = _content_text(m.get("content"))
    calls = m.get("tool_calls") if isinstance(m.get("tool_calls"), list) else []
    if calls:
        text += ("\n" if text else "") + "\n".join(f"→ {_tool_call_text(tc)}" for tc in calls)
    body = esc(middle_trunc(text, MESSAGE_CHARS)) if text else '<span class="muted">(empty)</span>'
    return f'<div class="msg msg-{cls}"><span class="role">{esc(trunc(label, SHORT_CHARS))}</span><pre>{body}</pre></div>'


def _settings(req: dict[str, Any]) -> str:
    """The request's parameters besides its messages: temperature, max_tokens, logprobs, tools ..."""
    bits = []
    for k, v in req.items():
        if k in ("messages", "prompt", "input", "tools", "model"):
            continue
        bits.append(f"{k}={trunc(plain(v) if not isinstance(v, str) else v, 80)}")
    tools = req.get("tools")
    if isinstance(tools, list) and tools:
        names = [
            str((t.get("function") or {}).get("name", "?")) if isinstance(t, dict) else "?" for t in tools
        ]
        bits.append(f"tools: {', '.join(names[:12])}{f' +{len(names) - 12}' if len(names) > 12 else ''}")
    return " · ".join(bits)


def _reply_html(c: CallRecord) -> str:
    if c.kind == "embedding":
        n = len(openai_format.embeddings(c.raw)) if c.raw else 0
        return f'<div class="label">reply</div><p class="muted small">{n} embedding vector(s)</p>'
    out = []
    n = openai_format.choice_count(c.raw)
    for i in range(max(1, n)):
        reply = openai_format.text(c.raw, i)
        tcs = openai_format.tool_calls(c.raw, i)
        label = "reply" if n <= 1 else f"reply, choice {i + 1} of {n}"
        reason = openai_format.finish_reason(c.raw, i)
        if reason and reason != "stop":
            label += f" (finish: {reason})"
        out.append(f'<div class="label">{esc(label)}</div>')
        text = reply + ("\n" if reply and tcs else "") + "\n".join(f"→ {_tool_call_text(t)}" for t in tcs)
        shown = esc(middle_trunc(text, RESPONSE_CHARS)) if text else '<span class="muted">(empty)</span>'
        out.append(f'<pre class="reply">{shown}</pre>')
        tops = openai_format.top_logprobs(c.raw, i)
        if tops and tops[0]:
            best = sorted(tops[0].items(), key=lambda kv: -kv[1])[:6]
            out.append(
                '<div class="small muted">first-token logprobs: '
                + esc(", ".join(f"{tok!r} {lp:.2f}" for tok, lp in best))
                + "</div>"
            )
    return "".join(out)


def calls_html(calls: list[CallRecord]) -> str:
    """Every call in order; a call repeats no message the previous call of its role already showed."""
    if not calls:
        return '<div class="label">calls</div><p class="muted small">(no model call)</p>'
    out = [f'<div class="label">calls ({len(calls)})</div>']
    last: dict[str, tuple[int, list[Any], str]] = {}  # role -> (call number, messages, reply text)
    fold = len(calls) > OPEN_CALLS
    for k, c in enumerate(calls, start=1):
        req = c.request if isinstance(c.request, dict) else {}
        meta = [c.role, c.model, c.kind, fmt_secs(c.latency_s)]
        meta.append(f"{c.usage.prompt_tokens:,}/{c.usage.completion_tokens:,} tokens")
        if c.attempts > 1:
            meta.append(f"{c.attempts} attempts")
        if c.cached:
            meta.append("cached")
        if c.replayed:
            meta.append("replayed")
        reply = openai_format.text(c.raw) if c.raw else ""
        head = f"#{k} " + " · ".join(esc(trunc(str(x), SHORT_CHARS)) for x in meta)
        if fold:
            head += f' <span class="muted">{esc(trunc(" ".join(reply.split()), 90))}</span>'
        out.append(f'<details class="call"{"" if fold else " open"}><summary>{head}</summary>')
        msgs = req.get("messages")
        if isinstance(msgs, list):
            prev = last.get(c.role)
            start = 0
            if prev and len(prev[1]) <= len(msgs) and msgs[: len(prev[1])] == prev[1]:
                start = len(prev[1])
                if start:
                    which = "message 1" if start == 1 else f"messages 1–{start}"
                    out.append(f'<p class="muted small">{which} as sent in call #{prev[0]}</p>')
            for j, m in enumerate(msgs[start:], start=start):
                if (
                    prev
                    and j == start
                    and isinstance(m, dict)
                    and m.get("role") == "assistant"
                    and _content_text(m.get("content")) == prev[2]
                    and prev[2]
                ):
                    out.append(f'<p class="muted small">assistant: the reply of call #{prev[0]}</p>')
                    continue
                out.append(_message_html(m))
            last[c.role] = (k, msgs, reply)
        elif isinstance(req.get("prompt"), str):
            out.append(
                '<div class="msg msg-user"><span class="role">prompt</span>'
                f"<pre>{esc(middle_trunc(req['prompt'], MESSAGE_CHARS))}</pre></div>"
            )
        elif "input" in req:
            inp = req["input"]
            n = len(inp) if isinstance(inp, list) else 1
            out.append(f'<p class="muted small">embedding request: {n} input(s)</p>')
        settings = _settings(req)
        if settings:
            out.append(f'<div class="settings small muted">{esc(settings)}</div>')
        if c.raw is not None:
            out.append(_reply_html(c))
        if c.error:
            out.append(
                f'<div class="label">call error</div><pre class="err">{esc(trunc(c.error, RESPONSE_CHARS))}</pre>'
            )
        out.append("</details>")
    return "".join(out)


# ------------------------------------------------------------------------------------- a sample


def _fmt_value(v: Any) -> str:
    f = finite(v)
    if f is None:
        return "—"
    return f"{f:.4g}"


def score_html(s: Sample) -> str:
    """Target, answer and how it was read, the value and extra values, the scorer's explanation."""
    sc = s.score
    target = sc.target if sc is not None and sc.target is not None else s.item.target
    rows = [("target", trunc(plain(target), 600))]
    if sc is not None:
        rows.append(("answer", trunc(plain(sc.answer), 600)))
        if sc.method:
            rows.append(("read by", sc.method))
        state = "" if sc.parsed else " (unparseable: scored as wrong)"
        if not sc.applicable:
            state = " (variant not applicable to this item)"
        rows.append(("score", _fmt_value(sc.value) + state))
        if sc.confidence is not None:
            rows.append(("confidence", _fmt_value(sc.confidence)))
        if sc.values:
            rows.append(("values", ", ".join(f"{k} {_fmt_value(v)}" for k, v in sc.values.items())))
    out = ['<dl class="facts score">']
    out.extend(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    out.append("</dl>")
    if sc is not None and sc.explanation:
        out.append(
            f'<div class="label">explanation</div><pre>{esc(middle_trunc(sc.explanation, RESPONSE_CHARS))}</pre>'
        )
    return "".join(out)


def _output_html(s: Sample) -> str:
    """The protocol's own record (actions, writes, judge readings ...), folded, as JSON."""
    out = {k: v for k, v in (s.output or {}).items() if k != "images"}
    if not out:
        return ""
    text = json.dumps(out, ensure_ascii=False, indent=1, default=str)
    return (
        '<details class="output"><summary class="small">protocol record (output)</summary>'
        f"<pre>{esc(middle_trunc(text, OUTPUT_CHARS))}</pre></details>"
    )


def sample_body(
    s: Sample, run_folder: Path | None = None, thumbs: dict[str, str | None] | None = None
) -> str:
    """Everything about one sample (no summary line): shared by the browser and the paired view."""
    out = [score_html(s)]
    item = f"<pre>{esc(trunc(_question_text(s), QUESTION_CHARS))}</pre>"
    if s.calls:  # the messages below carry it as sent; the item as loaded stays one click away
        out.append(f'<details class="output"><summary class="small">item as loaded</summary>{item}</details>')
    else:
        out.append(f'<div class="label">item</div>{item}')
    out.append(_images_html(s, run_folder, {} if thumbs is None else thumbs))
    out.append(calls_html(s.calls))
    if s.error:
        out.append(
            f'<div class="label">error</div><pre class="err">{esc(trunc(s.error, RESPONSE_CHARS))}</pre>'
        )
    out.append(_output_html(s))
    return "".join(out)


def sample_summary(s: Sample) -> str:
    mk = marker(s)
    sc = s.score
    target = sc.target if sc is not None and sc.target is not None else s.item.target
    answer = sc.answer if sc is not None else None
    variant = s.variant + (f" · r{s.repeat}" if s.repeat else "")
    subset = f" · {s.item.subset}" if s.item.subset else ""
    return (
        f'<span class="mk mk-{mk}">{esc(MARKERS[mk])}</span> '
        f"<code>{esc(trunc(s.item.id, SHORT_CHARS))}</code> "
        f'<span class="muted">{esc(s.benchmark)} · {esc(variant)}{esc(subset)}</span> '
        f'<span class="ta">target <b>{esc(trunc(plain(target), SHORT_CHARS))}</b> · '
        f"answer <b>{esc(trunc(plain(answer), SHORT_CHARS))}</b></span>"
    )


def sample_html(
    s: Sample, run_folder: Path | None = None, thumbs: dict[str, str | None] | None = None
) -> str:
    return (
        f'<details class="sample s-{marker(s)}"><summary>{sample_summary(s)}</summary>'
        f'<div class="sbody">{sample_body(s, run_folder, thumbs)}</div></details>'
    )


def _total_samples(r: RunView) -> int | None:
    if not r.metrics:
        return None
    ns = [b.get("n") for b in r.benchmarks.values()]
    return sum(n for n in ns if isinstance(n, int)) if ns else None


def sample_browser(r: RunView, max_samples: int) -> str:
    m = r.manifest
    name = f"f{r.index}"
    out = [
        f'<section class="samples-run" id="samples-{r.index}">',
        f'<h3>{esc(m.model.spec)} <span class="muted small">{esc(m.run_id)}</span></h3>',
    ]
    # CSS-only filter: radio inputs precede the list; rules in the stylesheet hide non-matches.
    # The inputs must be siblings of .sample-list for the `~` selectors to reach it.
    out.append('<span class="filters">show:</span>')
    for i, key in enumerate(["all", *MARKERS]):
        checked = " checked" if key == "all" else ""
        out.append(
            f'<input type="radio" class="flt flt-{key}" name="{name}" id="{name}-{i}"{checked}>'
            f'<label class="flt-label" for="{name}-{i}">{key}</label>'
        )
    out.append('<div class="sample-list">')
    shown = 0
    problem = ""
    gen = r.folder.iter_samples()
    thumbs: dict[str, str | None] = {}  # one thumbnail per stored image, however many samples show it
    try:
        for s in islice(gen, max_samples):
            out.append(sample_html(s, r.folder.path, thumbs))
            shown += 1
    except MedevalsError as e:
        problem = str(e)
    finally:
        gen.close()
    out.append("</div>")
    total = _total_samples(r)
    note = f"Showing the first {shown:,}" + (f" of {total:,}" if total is not None else "") + " samples."
    if shown == 0:
        note = "No samples."
    out.append(f'<p class="muted small">{esc(note)}</p>')
    if problem:
        out.append(f'<p class="banner bad">Stopped reading samples: {esc(problem)}</p>')
    out.append("</section>")
    return "".join(out)
