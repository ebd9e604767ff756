"""Conformance table for multiple-choice answer extraction (``scoring/extract.py``).

Every MCQ benchmark is scored as accuracy of the option the model chose; what differs between
harnesses is how the choice is read from free text. Each row is: model output, the options, the
option the reply states (``None`` = unreadable: counted as unparseable, never guessed), the rule
that must have read it (``Extraction.method``, shown in the report), and the case that motivated
the row. Rows marked issue 14 failed before the extraction was rewritten.
"""

from __future__ import annotations

import pytest

from medevals.scoring.extract import choice_from_logprobs, extract_choice

DRUGS = {"A": "Acetazolamide", "B": "Amitriptyline", "C": "Clopidogrel", "D": "Epinephrine"}
NUMBERED = {"1": "Acetazolamide", "2": "Amitriptyline", "3": "Clopidogrel", "4": "Epinephrine"}
HEPATITIS = {"A": "Hepatitis A", "B": "Hepatitis C", "C": "Cirrhosis", "D": "Wilson disease"}

# (output, options, expected option, method, motivating case)
ROWS = [
    # --- issue 14: formats a model is told to use, or uses unprompted ---
    (r"\boxed{A}", DRUGS, "A", "boxed", "issue 14: LaTeX boxed answer (math-tuned models)"),
    (
        r"Reasoning ... so the final answer is $\boxed{\text{C}}$.",
        DRUGS,
        "C",
        "boxed",
        "issue 14: boxed with \\text{} inside math mode",
    ),
    ('{"answer": "C"}', DRUGS, "C", "json", "issue 14: JSON answer field"),
    (
        '{"step_by_step_thinking": "antiplatelet needed", "answer_choice": "C"}',
        DRUGS,
        "C",
        "json",
        "MIRAGE prompt asks for answer_choice",
    ),
    (
        '{"step_by_step_thinking": "the "best" drug", "answer": "D"}',
        DRUGS,
        "D",
        "json",
        "JSON broken by an unescaped quote in the reasoning: the answer field still reads",
    ),
    ("C is the answer", DRUGS, "C", "stated", "issue 14: letter before the verdict"),
    ("B is the correct answer.", DRUGS, "B", "stated", "issue 14: letter before 'the correct answer'"),
    ("Option A is correct", DRUGS, "A", "stated", "issue 14: 'Option X is correct'"),
    ("The answer is option 3", DRUGS, "C", "option_index", "issue 14: option number -> 3rd option's letter"),
    ("The correct answer is the third option.", DRUGS, "C", "option_index", "issue 14: ordinal option"),
    ("The answer is option 3", NUMBERED, "3", "stated", "issue 14: numbered options keep their number"),
    (
        "Option A is incorrect and option B is incorrect; option C is correct.",
        DRUGS,
        "C",
        "stated",
        "issue 14: rejected options listed before the accepted one",
    ),
    (
        "Option C is correct; option A is incorrect.",
        DRUGS,
        "C",
        "stated",
        "a rejection after the verdict must not win as 'the last mention'",
    ),
    (
        "(A), (B) and (D) are wrong, so (C).",
        DRUGS,
        "C",
        "stated",
        "issue 14: leading enumeration of rejected options is not a leading answer",
    ),
    # --- issue 14: must NOT be read ---
    ("The answer is not clopidogrel", DRUGS, None, "unparseable", "issue 14: negated option text"),
    ("(A), (B) and (D) are wrong.", DRUGS, None, "unparseable", "issue 14: rejections only, no answer"),
    ("Option B is wrong.", DRUGS, None, "unparseable", "a rejected option is not an answer"),
    ("I would not go with B.", DRUGS, None, "unparseable", "negated statement"),
    ("A patient presents with chest pain.", DRUGS, None, "unparseable", "article 'A' (peer harness quirk)"),
    ("I don't know.", DRUGS, None, "unparseable", "MIRAGE locate_answer defaults this to 'A'"),
    ("A or B", DRUGS, None, "unparseable", "MIRAGE locate_answer reads a hedge as 'A'"),
    (
        "Hepatitis C is the correct answer.",
        HEPATITIS,
        "B",
        "option_text",
        "a disease name ending in a letter is not that letter's option",
    ),
    # --- earlier motivated cases, kept ---
    (
        "The answer is not clopidogrel but epinephrine.",
        DRUGS,
        "D",
        "option_text",
        "negation scope ends at 'but'",
    ),
    (
        "A seems plausible, but the answer is not A. Considering the vignette, the answer is (D).",
        DRUGS,
        "D",
        "stated",
        "chain of thought: the last statement wins",
    ),
    ("Option A is wrong. Option B is wrong. So the correct answer is option C.", DRUGS, "C", "stated", "CoT"),
    ("The answer is A viral infection.", DRUGS, None, "unparseable", "article after 'the answer is'"),
    ("C. Clopidogrel", DRUGS, "C", "leading", "labelled option echoed back"),
    (
        "\nA. Acetazolamide\nB. Amitriptyline\nC",
        DRUGS,
        None,
        "unparseable",
        "issue 16: a base model re-listing the options is not choosing its first label",
    ),
    ("Clopidogrel", DRUGS, "C", "option_text", "option text alone"),
    ("(C)", DRUGS, "C", "letter", "bare letter"),
]


@pytest.mark.parametrize(("text", "options", "expected", "method", "case"), ROWS, ids=[r[4] for r in ROWS])
def test_mcq_extraction_table(text, options, expected, method, case):
    got = extract_choice(text, options)
    assert (got.answer, got.method) == (expected, method), case


# Likelihood mode (base models): the option letter with the highest next-token probability,
# token variants of one letter pooled (HELM's joint multiple-choice adapter).
LIKELIHOOD_ROWS = [
    ({" A": -2.0, "A": -2.0, " B": -1.5}, "A", "two spellings of A outweigh B together"),
    ({" B": -0.4, " C": -1.2, "\n": -0.1}, "B", "non-letter tokens ignored"),
    ({"\n": -0.1, " The": -1.0}, None, "no option letter among the top tokens: unparseable"),
]


@pytest.mark.parametrize(("tops", "expected", "case"), LIKELIHOOD_ROWS, ids=[r[2] for r in LIKELIHOOD_ROWS])
def test_likelihood_table(tops, expected, case):
    assert choice_from_logprobs(tops, ["A", "B", "C", "D"])[0] == expected, case
