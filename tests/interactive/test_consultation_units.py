"""Pure parts of interactive consultation: reading expert replies, fact matching, metric arithmetic,
the summary tables and curve, the keyword patient, and loader / converter counts."""

from __future__ import annotations

import pytest

from medevals.benchmarks import base, registry
from medevals.benchmarks.interactive_convert import (
    MEDQA_INTERACTIVE_TEST_SIZE,
    convert_items,
    split_sentences,
    to_interactive,
)
from medevals.benchmarks.mediq import interactive_item, strip_numbering
from medevals.protocols.interactive import InteractiveOptions, InteractiveProtocol, parse_action
from medevals.protocols.patient_sim import DONT_KNOW, keyword_reply, volunteered_option
from medevals.schema import Item, Sample
from medevals.scoring import consultation as c

CHOICES = {"A": "Gentamicin", "B": "Ciprofloxacin", "C": "Ceftriaxone", "D": "Trimethoprim"}
FACTS = [
    "Patient is a 21-year-old male.",
    "Patient complains of fever.",
    "Culture of joint fluid shows a bacteria.",
    "Bacteria does not ferment maltose.",
]
INITIAL = "A 21-year-old male complains of fever and knee pain."


# --------------------------------------------------------------------------- expert replies


@pytest.mark.parametrize(
    ("text", "kind", "payload"),
    [
        ("ASK: Do you have a fever?", "ask", "Do you have a fever?"),
        ("**ASK:** Any rash?", "ask", "Any rash?"),
        ("Thinking...\nASK: Any travel?", "ask", "Any travel?"),
        ("ANSWER: C", "answer", "C"),
        ("answer - (B)", "answer", "B"),
        ("ANSWER: Ceftriaxone", "answer", "C"),
        ("ABSTAIN", "abstain", None),
        ("Abstain: not sure", "abstain", None),
        ("Have you been vaccinated?", "ask", "Have you been vaccinated?"),
        ("The answer is (D).", "answer", "D"),
        ("<think>ASK: ignored?</think>ANSWER: A", "answer", "A"),
        ("", "invalid", None),
        ("I need to think.", "invalid", None),
        ("ANSWER: E", "invalid", None),
        ("ASK:", "invalid", None),
    ],
)
def test_parse_action(text, kind, payload):
    a = parse_action(text, CHOICES, allow_ask=True, allow_abstain=True)
    assert a.kind == kind
    if kind == "ask":
        assert a.question == payload
    if kind == "answer":
        assert a.answer == payload


def test_parse_action_respects_what_is_allowed():
    assert parse_action("ASK: More?", CHOICES, allow_ask=False, allow_abstain=True).kind == "invalid"
    assert parse_action("More?", CHOICES, allow_ask=False, allow_abstain=True).kind == "invalid"
    assert parse_action("ABSTAIN", CHOICES, allow_ask=True, allow_abstain=False).kind == "invalid"


# --------------------------------------------------------------------------- fact arithmetic


def test_terms_and_coverage():
    assert c.terms("Do you have any fevers?") == {"fever"}
    assert c.coverage("Patient complains of fever.", "I have had a fever") == pytest.approx(0.5)
    assert c.coverage("Patient complains of fever.", "complaining about fever") == 1.0
    assert c.coverage("the of", "anything") == 1.0


def test_relevant_and_elicited_facts():
    rel = c.relevant_facts(FACTS, INITIAL)
    assert rel == [2, 3]  # age/sex and fever are in the initial information
    assert c.facts_in_text(FACTS, "The culture of my joint fluid grew bacteria.") == [2]
    assert c.share_elicited([0, 2], rel) == pytest.approx(0.5)
    assert c.share_elicited([2, 3], rel) == 1.0
    assert c.share_elicited([0], []) is None


def test_rank_facts_prefers_rare_words_and_is_stable():
    ranked = c.rank_facts("What did the joint fluid culture show about the bacteria?", FACTS)
    assert [i for i, _ in ranked] == [2, 3]
    assert ranked[0][1] > ranked[1][1]
    assert c.rank_facts("How is the weather?", FACTS) == []


def test_accuracy_by_questions_groups_episodes():
    by_k = c.accuracy_by_questions([(0, 1.0), (2, 0.0), (2, 1.0), (1, 1.0)])
    assert list(by_k) == [0, 1, 2] and by_k[2] == [0.0, 1.0]


def test_accuracy_at_budget_carries_final_answers_forward():
    eps = [
        (0, 1.0, {}),  # answered at once, right
        (2, 1.0, {0: 0.0, 1: 0.0}),  # wrong until it asked twice, then right
        (1, 0.0, {0: 1.0}),  # right at first, asked, then wrong
    ]
    curve = c.accuracy_at_budget(eps, max_turns=3)
    third = pytest.approx(1 / 3)
    two_thirds = pytest.approx(2 / 3)
    assert curve == [(0, two_thirds, 3), (1, third, 3), (2, two_thirds, 3), (3, two_thirds, 3)]
    # Without probes, an episode still asking at k is left out of that k.
    assert c.accuracy_at_budget([(2, 1.0, {}), (0, 0.0, {})], 2)[0] == (0, 0.0, 1)


# --------------------------------------------------------------------------- patients


def test_keyword_patient_returns_matching_facts_or_does_not_know():
    r = keyword_reply("Any fever?", FACTS, top_k=2)
    assert r.text == "Patient complains of fever." and r.facts == [1]
    r = keyword_reply("What grew in the joint fluid culture? Did it ferment maltose?", FACTS, top_k=2)
    assert r.facts == [2, 3]
    r = keyword_reply("How is your mood?", FACTS, top_k=2)
    assert r.text == DONT_KNOW and r.facts == []


def _item(**kw) -> Item:
    return interactive_item(
        id="x",
        question="Which drug was given?",
        choices=CHOICES,
        answer="C",
        initial_info=INITIAL,
        full_vignette=INITIAL + " The culture grew bacteria.",
        facts=[f"{i + 1}. {f}" for i, f in enumerate(FACTS)],
        where="t",
        line=1,
        **kw,
    )


def test_volunteered_option_only_when_the_case_does_not_say_it():
    item = _item()
    assert item.metadata["facts"][0] == FACTS[0]  # numbering stripped
    assert volunteered_option("They gave me ceftriaxone.", item) == "C"
    assert volunteered_option("I had a fever.", item) is None
    with_drug = item.model_copy(update={"context": "She was given ceftriaxone."})
    assert volunteered_option("They gave me ceftriaxone.", with_drug) is None


# --------------------------------------------------------------------------- scoring and summary


def _sample(
    variant: str, questions: int, correct: bool, stop: str = "answer", revealed=None, probes=None, item_id="x"
) -> Sample:
    proto = InteractiveProtocol(InteractiveOptions(max_turns=3))
    item = _item().model_copy(update={"id": item_id})
    letter = "C" if correct else "A"
    output = {
        "variant": variant,
        "stop": stop,
        "questions": questions,
        "final_reply": {"answer": f"ANSWER: {letter}", "abstain": "ABSTAIN"}.get(stop, "gibberish"),
        "revealed": revealed if revealed is not None else [],
        "transcript": [{"role": "expert", "text": "gibberish", "parse": "no ASK, ANSWER or ABSTAIN"}],
    }
    if probes is not None:
        output["probes"] = probes
    return Sample(
        unit_id=f"b/{item_id}/{variant}/{questions}{stop}{correct}",
        benchmark="b",
        item=item,
        variant=variant,
        output=output,
        score=proto.score(item, output, [], variant),
    )


def test_score_values_per_outcome():
    s = _sample("interactive", 2, True, revealed=[2])
    assert s.score.value == 1.0 and s.score.values["facts_elicited"] == 0.5
    assert s.score.values["relevant_facts_per_question"] == 0.5
    assert s.score.values["questions_asked"] == 2.0
    a = _sample("interactive", 1, False, stop="abstain")
    assert a.score.value == 0.0 and a.score.parsed and a.score.values["abstained"] == 1.0
    f = _sample("interactive", 0, False, stop="format_failure")
    assert f.score.value == 0.0 and not f.score.parsed and f.score.explanation.endswith("ABSTAIN")
    p = _sample("interactive", 1, False, stop="patient_failure")
    assert p.score.value is None and p.score.values == {"patient_failure": 1.0}
    b = _sample("full", 0, True)
    assert b.score.values == {"accuracy_full_vignette": 1.0}
    # A bound never abstains: ABSTAIN there is not an answer.
    assert _sample("initial", 0, False, stop="abstain").score.values == {"accuracy_initial_info": 0.0}


def test_summarize_tables_and_curve():
    proto = InteractiveProtocol(InteractiveOptions(max_turns=3))
    samples = [
        _sample("interactive", 0, True),
        _sample("interactive", 2, False, revealed=[2, 3]),
        _sample("interactive", 2, True, revealed=[2]),
        _sample("interactive", 1, False, stop="abstain"),
        _sample("interactive", 1, False, stop="patient_failure"),
        _sample("full", 0, True),
        _sample("full", 0, True),
        _sample("initial", 0, False),
        _sample("initial", 0, True),
    ]
    extra = proto.summarize(samples)
    main = extra["tables"][0]
    col = main["columns"].index
    inter, full, initial = main["rows"]
    assert inter[col("n scored")] == 4 and inter[col("accuracy")]["value"] == 0.5
    assert inter[col("mean questions")] == pytest.approx(5 / 4)
    assert inter[col("abstention rate")]["value"] == 0.25
    assert inter[col("accuracy when answering")]["value"] == pytest.approx(2 / 3)
    assert inter[col("patient failures")] == 1
    assert full[col("accuracy")]["value"] == 1.0 and initial[col("accuracy")]["value"] == 0.5
    assert extra["accuracy_by_variant"] == {"interactive": 0.5, "full": 1.0, "initial": 0.5}
    by_k = extra["tables"][1]["rows"]
    assert [(r[0], r[1]) for r in by_k] == [(0, 1), (1, 1), (2, 2)]
    (plot,) = extra["plots"]
    series = {s["name"]: s["points"] for s in plot["series"]}
    assert series["interactive: episodes that stopped after k questions"] == [[0, 1.0], [1, 0.0], [2, 0.5]]
    assert series["full vignette (upper bound)"] == [[0, 1.0], [3, 1.0]]
    assert series["initial information only (lower bound)"] == [[0, 0.5], [3, 0.5]]
    ends = dict(map(tuple, extra["tables"][2]["rows"]))
    assert ends == {"abstain": 1, "answer": 3, "patient_failure": 1}
    curve = extra["tables"][3]
    assert curve["columns"][0] == "questions k" and len(curve["rows"]) == 4  # k = 0..max_turns
    assert curve["rows"][0] == [0, "100.0%", "100.0%", "50.0%"]
    assert curve["rows"][3] == [3, "", "100.0%", "50.0%"]


def test_paired_differences_match_items():
    proto = InteractiveProtocol(InteractiveOptions(max_turns=3))
    samples = [
        # item 1: asking fixed it; item 2: right everywhere; item 3: asking did not help; item 4: no bound.
        _sample("interactive", 2, True, item_id="1"),
        _sample("initial", 0, False, item_id="1"),
        _sample("full", 0, True, item_id="1"),
        _sample("interactive", 1, True, item_id="2"),
        _sample("initial", 0, True, item_id="2"),
        _sample("full", 0, True, item_id="2"),
        _sample("interactive", 3, False, item_id="3"),
        _sample("initial", 0, False, item_id="3"),
        _sample("full", 0, True, item_id="3"),
        _sample("interactive", 0, False, item_id="4"),
        _sample("interactive", 1, False, stop="patient_failure", item_id="5"),
        _sample("initial", 0, True, item_id="5"),
    ]
    paired = proto.summarize(samples)["paired_differences"]
    gain = paired["interactive - initial information (gain from asking)"]
    assert gain["n"] == 3 and gain["value"] == pytest.approx(1 / 3)
    left = paired["full vignette - interactive (left to gain)"]
    assert left["n"] == 3 and left["value"] == pytest.approx(1 / 3)
    assert gain["ci_method"] == "bootstrap" and gain["ci_low"] <= gain["value"] <= gain["ci_high"]
    same = proto.summarize([_sample("interactive", 0, True), _sample("full", 0, True)])["paired_differences"]
    only = same["full vignette - interactive (left to gain)"]
    assert (only["value"], only["ci_low"], only["ci_high"]) == (0.0, 0.0, 0.0)  # not a Wilson interval


def test_summarize_with_probes_adds_the_budget_curve():
    proto = InteractiveProtocol(InteractiveOptions(max_turns=2, probe=True))
    samples = [
        _sample("interactive", 2, True, probes=[[0, "A"], [1, "C"]]),
        _sample("interactive", 0, False, probes=[]),
    ]
    extra = proto.summarize(samples)
    assert [(p["k"], p["accuracy"]) for p in extra["accuracy_at_budget"]] == [(0, 0.0), (1, 0.5), (2, 0.5)]


def test_options_validate_variants_and_patient():
    with pytest.raises(ValueError, match="unknown variant"):
        InteractiveOptions(strategy="interactive,zero-shot")
    assert InteractiveOptions(strategy="full, initial").strategy == ["full", "initial"]
    assert InteractiveOptions(patient="model").requires_patient
    assert not InteractiveOptions().requires_patient
    assert InteractiveProtocol(InteractiveOptions(patient="embedding")).default_roles() == {
        "embedder": "builtin:minilm"
    }


# --------------------------------------------------------------------------- loaders and converter


@pytest.mark.parametrize(
    ("name", "split", "n"),
    [("mediq-imedqa", "dev", 1272), ("mediq-icraftmd", "test", 140), ("medqa-interactive", "test", 1254)],
)
def test_loader_counts(shared_data, name, split, n):
    bench = registry.get(name)
    assert bench.protocol == "interactive" and bench.splits[split] == n
    items = base.load(bench, split, shared_data).items
    assert len(items) == n
    for it in items:
        assert it.target in it.choices
        assert isinstance(it.metadata["facts"], list)
        assert not any(f[:1].isdigit() and f[1:3] in (". ", ") ") for f in it.metadata["facts"][:9])


def test_mediq_first_item_mapping(shared_data):
    it = base.load(registry.get("mediq-imedqa"), "dev", shared_data).items[0]
    assert it.metadata["initial_info"].startswith("A 21-year-old sexually active male")
    assert it.metadata["facts"][0] == "Patient is a 21-year-old male."
    assert "antibiotic therapy" in it.context and it.target == "C"
    assert "explanation" not in it.metadata
    empty = [
        x
        for x in base.load(registry.get("mediq-imedqa"), "dev", shared_data).items
        if not x.metadata["facts"]
    ]
    assert len(empty) == 3  # knowledge questions without a case, kept as upstream does


def test_strip_numbering():
    assert strip_numbering("12. The man denied fever.") == "The man denied fever."
    assert strip_numbering("3) Fever.") == "Fever."
    assert strip_numbering("No number 2.5 mg.") == "No number 2.5 mg."


def test_split_sentences_keeps_decimals_and_abbreviations():
    text = (
        "A 45-year-old man is seen by Dr. Smith. His temperature is 37.2°C (99°F), "
        "blood pressure is 120/80 mm Hg. He takes drugs, e.g. aspirin. Which is the diagnosis?"
    )
    assert split_sentences(text) == [
        "A 45-year-old man is seen by Dr. Smith.",
        "His temperature is 37.2°C (99°F), blood pressure is 120/80 mm Hg.",
        "He takes drugs, e.g. aspirin.",
        "Which is the diagnosis?",
    ]


def test_to_interactive_splits_stem_initial_info_and_facts():
    item = Item(
        id="q1",
        input="A 30-year-old woman has chest pain. She smokes; she drinks alcohol. ECG is normal. "
        "Which of the following is the next step?",
        choices={"A": "Troponin", "B": "CT"},
        target="A",
    )
    conv = to_interactive(item, source="demo")
    assert conv.input == "Which of the following is the next step?"
    assert conv.metadata["initial_info"] == "A 30-year-old woman has chest pain."
    assert conv.metadata["facts"] == [
        "A 30-year-old woman has chest pain.",
        "She smokes.",
        "she drinks alcohol.",
        "ECG is normal.",
    ]
    assert conv.context.endswith("ECG is normal.") and conv.metadata["converted_from"] == "demo"
    no_case = Item(
        id="q2", input="Which nerve supplies the deltoid?", choices={"A": "x", "B": "y"}, target="A"
    )
    assert to_interactive(no_case) is None
    items, skipped = convert_items([item, no_case])
    assert len(items) == 1 and skipped == 1


def test_converted_size_constant_matches_data(shared_data):
    medqa = base.load(registry.get("medqa"), "test", shared_data).items
    items, skipped = convert_items(medqa)
    assert len(items) == MEDQA_INTERACTIVE_TEST_SIZE and skipped == len(medqa) - MEDQA_INTERACTIVE_TEST_SIZE


class _BaseCtx:
    """Just enough of a SolveContext for building requests to a base (completion) model."""

    def is_base_model(self, role: str = "candidate") -> bool:
        return True


def test_base_model_prompts_state_the_format_without_placeholders():
    from medevals.protocols import interactive as inter
    from medevals.protocols.patient_sim import _patient_request

    proto = InteractiveProtocol(InteractiveOptions(max_turns=2))
    item = _item()
    case = inter.CASE.format(
        initial_info=INITIAL, question_block=inter.question_block(item), budget=proto._budget(0, base=True)
    )
    req = proto._request(
        _BaseCtx(), [{"role": "system", "content": proto._system()}, {"role": "user", "content": case}]
    )
    prompt = req.body["prompt"]
    assert req.kind == "completion" and req.body["stop"] == ["\n"]
    assert prompt.startswith(inter.BASE_SYSTEM.format(or_abstain=", or ABSTAIN"))
    assert "Doctor: ANSWER: A\n" in prompt and prompt.endswith("You may not ask more questions.\nDoctor:")
    assert "<" not in prompt
    bound = proto._request(
        _BaseCtx(),
        [
            {"role": "system", "content": inter.BOUND_SYSTEM},
            {"role": "user", "content": "Patient information: x"},
        ],
        prefill="ANSWER:",
    )
    assert bound.body["prompt"].startswith(inter.BASE_BOUND_SYSTEM) and bound.body["prompt"].endswith(
        "Doctor: ANSWER:"
    )
    patient = _patient_request(_BaseCtx(), item, "Any fever?", None, 32)
    assert patient.body["prompt"].endswith(
        "2. Patient complains of fever.\n3. Culture of joint fluid shows a bacteria.\n4. Bacteria does not ferment maltose.\n\nDoctor: Any fever?\nPatient:"
    )
    assert "Ceftriaxone" not in patient.body["prompt"]
