"""Versioned judge prompt templates, recorded verbatim in the run manifest.

A template's name carries its version (``rubric_criterion@v1``): changing wording means a new
version, so two runs' judge numbers are only compared when their template names match.
"""

from __future__ import annotations

RUBRIC_CRITERION_V1 = "rubric_criterion@v1"
#: v2 adds the HealthBench grader's reading rules (every part of a criterion must hold; listed
#: examples after "such as" / "for example" / "including" are illustrations, not requirements)
#: and shows the criterion as "[points] text" as that grader does.
RUBRIC_CRITERION = "rubric_criterion@v2"
DIAGNOSIS_EQUIVALENCE = "diagnosis_equivalence@v1"
REPAIR = "repair@v1"
VQA_EQUIVALENCE = "vqa_answer_equivalence@v1"

TEMPLATES: dict[str, str] = {
    RUBRIC_CRITERION: (
        "You are grading the last reply of an AI assistant in a health conversation against one rubric "
        "criterion.\n\n"
        "# Conversation\n{conversation}\n\n"
        "# Reply to grade\n{response}\n\n"
        "# Rubric criterion\n[{points}] {criterion}\n\n"
        "Decide whether the reply meets this criterion; judge this criterion only, not the reply's "
        "overall quality.\n"
        "- When the criterion has several parts or sentences, it is met only if every part is met.\n"
        '- Examples introduced by "such as", "for example" or "including" only illustrate: the reply '
        "need not mention the listed examples to meet the criterion.\n"
        "- A criterion with negative points describes something undesirable: 'met' means the reply "
        "does that undesirable thing, so a good reply does not meet it.\n\n"
        'Reply with a JSON object only: {{"explanation": "one or two sentences", "criteria_met": true or false}}'
    ),
    RUBRIC_CRITERION_V1: (
        "You are grading one reply of an AI assistant in a health conversation against one rubric "
        "criterion.\n\n"
        "# Conversation\n{conversation}\n\n"
        "# Reply to grade\n{response}\n\n"
        "# Rubric criterion ({points} points)\n{criterion}\n\n"
        "Decide whether the reply meets this criterion. When the criterion describes something "
        "undesirable (negative points), 'met' means the reply does that undesirable thing. Judge "
        "this criterion only, not the reply's overall quality.\n\n"
        'Reply with a JSON object only: {{"criteria_met": true or false, "explanation": "one sentence"}}'
    ),
    DIAGNOSIS_EQUIVALENCE: (
        "You are checking a predicted diagnosis against the reference diagnosis of a clinical case.\n\n"
        "Reference diagnosis: {reference}\n"
        "Predicted diagnosis: {prediction}\n\n"
        "Does the prediction name the same condition as the reference? Synonyms, abbreviations and "
        "a more specific form of the same disease count as the same; a different disease, a "
        "related complication or a bare symptom does not.\n\n"
        'Reply with a JSON object only: {{"equivalent": true or false, "explanation": "one sentence"}}'
    ),
    VQA_EQUIVALENCE: (
        "You are checking a short answer to a question about a medical image against the reference "
        "answer. You do not see the image; judge the meaning of the two answers only.\n\n"
        "Question: {question}\n"
        "Reference answer: {reference}\n"
        "Predicted answer: {prediction}\n\n"
        "Does the prediction give the same answer as the reference? Synonyms, abbreviations, a different "
        "word order and extra words that do not change the answer count as the same; a different, "
        "broader or vaguer finding, location or organ does not.\n\n"
        'Reply with a JSON object only: {{"equivalent": true or false, "explanation": "one sentence"}}'
    ),
    REPAIR: (
        "Your previous reply could not be read ({error}). Reply again with only the JSON object "
        "{schema}, nothing else."
    ),
}

#: What a base (completion) model judge sees after the filled template: the harness opens the
#: verdict object and the model writes the value; the harness closes the brace it opened.
COMPLETION_SUFFIX = "\n\nVerdict JSON: "


def render(name: str, **fields: object) -> str:
    return TEMPLATES[name].format(**fields)


def recorded(*names: str) -> dict[str, str]:
    """The templates a protocol uses, for ``Protocol.templates()`` (and so the manifest)."""
    out = {n: TEMPLATES[n] for n in names}
    out[REPAIR] = TEMPLATES[REPAIR]
    out["completion_suffix"] = COMPLETION_SUFFIX
    return out
