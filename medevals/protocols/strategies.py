"""Prompting strategies and probes for multiple choice, as composable named variants.

A strategy name is one or more parts joined by ``+`` (each part at most once):

============  ==================================================================
zero-shot     no examples (the default)
few-shot      ``shots`` random examples from the few-shot pool; ``Nshot`` = N of them
knnN          the N pool examples nearest to the question (embedder role, cosine)
cot           chain of thought: reason, then "The answer is (X)"
scN           self-consistency: N sampled answers (``sc_temperature``), majority vote
shuffleN      choice-shuffle ensemble: N option orders (the first is the original), vote
conf          verbalised confidence: the model ends with "Confidence: NN%"
============  ==================================================================

e.g. ``knn5+cot+sc5`` or Medprompt's ``knn5+cot+shuffle5``. ``scN+shuffleM`` makes N x M calls.

Probes are single names, not composable; each is answered zero-shot and needs the
``zero-shot`` variant as its paired baseline (added automatically):
``probe:position`` (every cyclic shift of the options), ``probe:options-only``,
``probe:stem-only``, ``probe:completion`` (held-back question tail vs a paraphrased control),
``perturb:typos``, ``perturb:distractor``, ``perturb:units``, ``perturb:order``.
``probes`` and ``perturbations`` name all of each group.

Image degradations (``medevals/images/degrade.py``) are a part too: ``degrade:KIND@S`` shows the
item's images degraded (KIND in noise, blur, jpeg, downsample, contrast; severity S in 1-3), e.g.
``degrade:blur@2`` or ``cot+degrade:jpeg@3``. Each is compared with the same strategy on clean
images (``zero-shot`` for a bare degradation), added when missing. A grid is written
``degrade:noise,blur,jpeg@1,2,3`` (kinds, then ``@`` and the severities, default all three);
``degradations`` is every kind at every severity.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

PROBES = ("probe:position", "probe:options-only", "probe:stem-only", "probe:completion")
PERTURBATIONS = ("perturb:typos", "perturb:distractor", "perturb:units", "perturb:order")
GROUPS = {"probes": PROBES, "perturbations": PERTURBATIONS}
BASELINE = "zero-shot"
DEGRADE = "degrade:"
SYSTEM = "system:"

_PART = re.compile(r"^(?:(zero-shot)|(few-shot)|(\d+)-?shot|knn(\d+)|(cot)|sc(\d+)|shuffle(\d+)|(conf))$")


@dataclass(frozen=True)
class Strategy:
    """What one variant does; ``calls`` is how many answer calls it makes per item (its cost driver)."""

    name: str
    shots: int = 0
    knn: bool = False
    cot: bool = False
    samples: int = 1
    shuffles: int = 1
    verbal: bool = False
    probe: str | None = None
    #: An image degradation "KIND@S" applied to every image of the item, or None (clean images).
    degrade: str | None = None
    #: An agent system's variant (``system:NAME``, see ``medevals/systems``), or None.
    system: str | None = None

    @property
    def needs_text(self) -> bool:
        """Whether the answer must be generated text (likelihood scoring cannot serve it)."""
        return (
            self.cot
            or self.samples > 1
            or self.verbal
            or self.probe == "probe:completion"
            or self.system is not None
        )

    @property
    def ensemble(self) -> bool:
        return self.samples > 1 or self.shuffles > 1


@functools.lru_cache(maxsize=512)  # once per variant name, not once per sample scored
def parse(name: str, default_shots: int = 5) -> Strategy:
    """One variant name -> Strategy; ValueError with the offending part otherwise.

    ``system:NAME`` is an agent system's variant (run with ``--system NAME``): it composes with
    nothing and is described by its declaration, not here."""
    if name.startswith(SYSTEM):
        return Strategy(name=name, system=name[len(SYSTEM) :])
    if name in PROBES or name in PERTURBATIONS:
        return Strategy(name=name, probe=name)
    if name == "cot-few-shot":  # kept for runs recorded before strategies composed
        return Strategy(name=name, shots=default_shots, cot=True)
    fields: dict[str, object] = {}
    for part in name.split("+"):
        if part.strip().startswith(DEGRADE):
            from medevals.images.degrade import parse as parse_degradation

            if "degrade" in fields:
                raise ValueError(f"strategy '{name}': '{part}' repeats a part already given")
            spec = part.strip()[len(DEGRADE) :]
            kind, sev = parse_degradation(spec)
            fields["degrade"] = f"{kind}@{sev}"
            continue
        m = _PART.match(part.strip())
        if not m:
            raise ValueError(
                f"unknown strategy '{part}' (zero-shot, few-shot, Nshot, knnN, cot, scN, shuffleN, conf, "
                f"joined with '+'; probes: {', '.join(PROBES)}; perturbations: {', '.join(PERTURBATIONS)}; "
                "groups: probes, perturbations)"
            )
        zero, few, nshot, knn, cot, sc, shuffle, conf = m.groups()
        key = (
            "shots"
            if (zero or few or nshot or knn)
            else "cot"
            if cot
            else "samples"
            if sc
            else "shuffles"
            if shuffle
            else "verbal"
        )
        if key in fields:
            raise ValueError(f"strategy '{name}': '{part}' repeats a part already given")
        if zero:
            fields["shots"] = 0
        elif few:
            fields["shots"] = default_shots
        elif nshot or knn:
            n = int(nshot or knn)
            if not 1 <= n <= 25:
                raise ValueError(f"strategy '{name}': {n} examples (1-25 allowed)")
            fields["shots"] = n
            fields["knn"] = bool(knn)
        elif cot:
            fields["cot"] = True
        elif sc or shuffle:
            n = int(sc or shuffle)
            if not 2 <= n <= 40:
                raise ValueError(f"strategy '{name}': '{part}' needs 2-40 calls")
            fields["samples" if sc else "shuffles"] = n
        elif conf:
            fields["verbal"] = True
    return Strategy(name=name, **fields)  # type: ignore[arg-type]


def clean_baseline(name: str) -> str:
    """The variant a degraded one is compared with: the same strategy on clean images."""
    kept = [p for p in name.split("+") if not p.strip().startswith(DEGRADE)]
    return "+".join(kept) if kept else BASELINE


def _degradation_groups(names: Sequence[str]) -> list[str]:
    """Re-join a grid the comma split cut apart: ``degrade:noise``, ``blur``, ``jpeg@1``, ``2`` ->
    every kind listed at every severity listed (``degrade:noise@1`` ... ``degrade:jpeg@2``)."""
    from medevals.images.degrade import KINDS, SEVERITIES

    def kind_of(token: str) -> str:
        return token.split("@", 1)[0]

    out: list[str] = []
    i = 0
    while i < len(names):
        n = names[i].strip()
        i += 1
        if n == "degradations":
            out.extend(f"{DEGRADE}{k}@{s}" for k in KINDS for s in SEVERITIES)
            continue
        if not n.startswith(DEGRADE) or "+" in n:
            out.append(n)
            continue
        tokens = [n[len(DEGRADE) :]]
        seen_at = "@" in tokens[0]
        while i < len(names):
            nxt = names[i].strip()
            if kind_of(nxt) in (*KINDS, "all"):
                seen_at = seen_at or "@" in nxt
            elif not (nxt.isdigit() and seen_at):
                break
            tokens.append(nxt)
            i += 1
        kinds: list[str] = []
        severities: list[str] = []
        for t in tokens:
            if t.isdigit():
                severities.append(t)
                continue
            kind, at, sev = t.partition("@")
            for k in KINDS if kind == "all" else (kind,):
                if k not in kinds:
                    kinds.append(k)
            if at:
                severities.append(sev)
        for k in kinds:
            for sev in severities or [str(x) for x in SEVERITIES]:
                if f"{DEGRADE}{k}@{sev}" not in out:
                    out.append(f"{DEGRADE}{k}@{sev}")
    return out


def expand(names: Sequence[str], default_shots: int = 5) -> list[str]:
    """Expand group names, drop duplicates, and put each paired baseline first when probes or
    degradations need it (zero-shot for probes; the clean strategy for a degraded one)."""
    out: list[str] = []
    for n in _degradation_groups(names):
        if n.startswith(SYSTEM):
            raise ValueError(f"'{n}' is an agent system: run it with --system {n[len(SYSTEM) :]}")
        for x in GROUPS.get(n, (n,)):
            parse(x, default_shots)
            if x not in out:
                out.append(x)
    if any(x in PROBES or x in PERTURBATIONS for x in out) and BASELINE not in out:
        out.insert(0, BASELINE)
    for x in list(out):
        if DEGRADE in x:
            base = clean_baseline(x)
            if base not in out:  # just before its first degraded variant: the headline stays the user's first
                parse(base, default_shots)
                out.insert(out.index(x), base)
    return out


def majority(answers: Sequence[str | None]) -> tuple[str | None, float]:
    """Majority vote over parsed answers; ties go to the answer seen first.

    Returns (winner, agreement) where agreement = winner's votes / all calls (unparseable
    answers count in the denominator, so a vote of 2 out of 5 with 3 unreadable is 0.4).
    """
    if len(answers) == 1:  # one answer call (zero-shot): the same result without a Counter
        return (None, 0.0) if answers[0] is None else (answers[0], 1.0)
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None, 0.0
    top = max(counts.values())
    winner = next(a for a in answers if a is not None and counts[a] == top)
    return winner, top / len(answers)
