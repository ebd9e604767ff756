"""The sample browser: the first samples of each run, streamed, with a CSS-only filter."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

from medevals.errors import MedevalsError
from medevals.models.openai_format import text as response_text
from medevals.report.html.escape import esc, plain, trunc
from medevals.report.html.formats import fmt_secs
from medevals.report.html.runs import RunView
from medevals.schema import Sample

QUESTION_CHARS = 600
RESPONSE_CHARS = 4000
SHORT_CHARS = 160


MARKERS = {
    "correct": "✓ correct",
    "incorrect": "✗ incorrect",
    "unparseable": "? unparseable",
    "error": "! error",
    "unscored": "– unscored",
    "partial": "≈ partial",
}


def _marker(s: Sample) -> str:
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


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        bits = []
        for p in content:
            if isinstance(p, dict) and p.get("type") == "text":
                bits.append(str(p.get("text", "")))
            elif isinstance(p, dict) and p.get("type") in ("image_url", "input_image", "image"):
                bits.append("[image]")
            elif isinstance(p, dict) and p.get("type") in ("input_audio", "audio"):
                bits.append("[audio]")
            else:
                bits.append(plain(p))
        return " ".join(bits)
    return plain(content)


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


def sample_html(
    s: Sample, run_folder: Path | None = None, thumbs: dict[str, str | None] | None = None
) -> str:
    mk = _marker(s)
    sc = s.score
    target = sc.target if sc is not None and sc.target is not None else s.item.target
    answer = sc.answer if sc is not None else None
    last = s.calls[-1] if s.calls else None
    response = response_text(last.raw) if last is not None else ""
    variant = s.variant + (f" · r{s.repeat}" if s.repeat else "")
    subset = f" · {s.item.subset}" if s.item.subset else ""
    out = [
        f'<details class="sample s-{mk}"><summary>',
        f'<span class="mk mk-{mk}">{esc(MARKERS[mk])}</span> ',
        f"<code>{esc(trunc(s.item.id, SHORT_CHARS))}</code> ",
        f'<span class="muted">{esc(s.benchmark)} · {esc(variant)}{esc(subset)}</span> ',
        f'<span class="ta">target <b>{esc(trunc(plain(target), SHORT_CHARS))}</b> · '
        f"answer <b>{esc(trunc(plain(answer), SHORT_CHARS))}</b></span>",
        "</summary>",
        f'<div class="label">question</div><pre>{esc(trunc(_question_text(s), QUESTION_CHARS))}</pre>',
        _images_html(s, run_folder, {} if thumbs is None else thumbs),
    ]
    if last is not None:
        meta = f"{last.model} · {fmt_secs(last.latency_s)} · {last.usage.prompt_tokens:,}/{last.usage.completion_tokens:,} tokens"
        if last.cached:
            meta += " · cached"
        if last.replayed:
            meta += " · replayed"
        out.append(f'<div class="label">response <span class="muted">({esc(meta)})</span></div>')
        shown = esc(trunc(response, RESPONSE_CHARS)) if response else '<span class="muted">(empty)</span>'
        out.append(f"<pre>{shown}</pre>")
        if last.error:
            out.append(
                f'<div class="label">call error</div><pre class="err">{esc(trunc(last.error, RESPONSE_CHARS))}</pre>'
            )
    else:
        out.append('<div class="label">response</div><pre><span class="muted">(no model call)</span></pre>')
    if s.error:
        out.append(
            f'<div class="label">error</div><pre class="err">{esc(trunc(s.error, RESPONSE_CHARS))}</pre>'
        )
    if sc is not None and sc.explanation:
        out.append(
            f'<div class="label">explanation</div><pre>{esc(trunc(sc.explanation, RESPONSE_CHARS))}</pre>'
        )
    out.append("</details>")
    return "".join(out)


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
