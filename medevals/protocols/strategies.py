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
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

PROBES = ("probe:position", "probe:options-only", "probe:stem-only", "probe:completion")
PERTURBATIONS = ("perturb:typos", "perturb:distractor", "perturb:units", "perturb:order")
GROUPS = {"probes": PROBES, "perturbations": PERTURBATIONS}
BASELINE = "zero-shot"

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

    @property
    def needs_text(self) -> bool:
        """Whether the answer must be generated text (likelihood scoring cannot serve it)."""
        return self.cot or self.samples > 1 or self.verbal or self.probe == "probe:completion"

    @property
    def ensemble(self) -> bool:
        return self.samples > 1 or self.shuffles > 1


def parse(name: str, default_shots: int = 5) -> Strategy:
    """One variant name -> Strategy; ValueError with the offending part otherwise."""
    if name in PROBES or name in PERTURBATIONS:
        return Strategy(name=name, probe=name)
    if name == "cot-few-shot":  # kept for runs recorded before strategies composed
        return Strategy(name=name, shots=default_shots, cot=True)
    fields: dict[str, object] = {}
    for part in name.split("+"):
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


def expand(names: Sequence[str], default_shots: int = 5) -> list[str]:
    """Expand group names, drop duplicates, and put the zero-shot baseline first when probes need it."""
    out: list[str] = []
    for n in names:
        for x in GROUPS.get(n, (n,)):
            parse(x, default_shots)
            if x not in out:
                out.append(x)
    if any(x in PROBES or x in PERTURBATIONS for x in out) and BASELINE not in out:
        out.insert(0, BASELINE)
    return out


def majority(answers: Sequence[str | None]) -> tuple[str | None, float]:
    """Majority vote over parsed answers; ties go to the answer seen first.

    Returns (winner, agreement) where agreement = winner's votes / all calls (unparseable
    answers count in the denominator, so a vote of 2 out of 5 with 3 unreadable is 0.4).
    """
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None, 0.0
    top = max(counts.values())
    winner = next(a for a in answers if a is not None and counts[a] == top)
    return winner, top / len(answers)
