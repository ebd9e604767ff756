import pytest

from medevals.scoring.extract import choice_from_logprobs, extract_choice

OPTS = {"A": "Acetazolamide", "B": "Amitriptyline", "C": "Clopidogrel", "D": "Epinephrine"}
YNM = {"A": "yes", "B": "no", "C": "maybe"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C", "C"),
        ("(C)", "C"),
        ("C.", "C"),
        ("**C**", "C"),
        ("Answer: C", "C"),
        ("The answer is (C).", "C"),
        ("the answer is c)", "C"),  # a lower-case letter closed by a bracket is a label
        ("the answer is a lower dose", None),  # ... but a bare lower-case 'a' is an article
        ("The answer is (c).", "C"),
        ("Final answer: D", "D"),
        ("I choose B because amitriptyline...", "B"),
        ("C. Clopidogrel", "C"),
        ("C) Clopidogrel is an antiplatelet", "C"),
        ("(D) Epinephrine", "D"),
        # chain of thought: the last statement wins
        ("A seems plausible, but the answer is not A. Considering the vignette, the answer is (D).", "D"),
        ("Option A is wrong. Option B is wrong. So the correct answer is option C.", "C"),
        # the classic trap: a sentence starting with the article 'A'
        (
            "A patient with angle-closure glaucoma needs acetazolamide.",
            "A",
        ),  # via option text, not the article
        ("A patient like this needs urgent treatment.", None),
        ("The answer is A viral infection.", None),
        ("The answer is Acetazolamide.", "A"),
        ("Clopidogrel", "C"),
        ("clopidogrel.", "C"),
        ("<think>maybe A or B</think>The answer is (B)", "B"),
        ("", None),
        ("I don't know.", None),
        ("Both Acetazolamide and Clopidogrel could work.", None),
        ("Answer:\n\nD", "D"),
        ("  D  ", "D"),
        ("E", None),  # not among the options
    ],
)
def test_extract_choice(text, expected):
    assert extract_choice(text, OPTS).answer == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", "A"),
        ("No.", "B"),
        ("Maybe", "C"),
        ("Yes, because the trial showed benefit.", "A"),
        ("yes or no", None),
    ],
)
def test_extract_yes_no_maybe(text, expected):
    assert extract_choice(text, YNM).answer == expected


def test_substring_options_prefer_the_longer_one():
    opts = {"A": "anemia", "B": "iron deficiency anemia", "C": "thalassemia", "D": "hemolysis"}
    assert extract_choice("The answer is iron deficiency anemia", opts).answer == "B"


def test_methods_are_reported():
    assert extract_choice("(C)", OPTS).method == "letter"
    assert extract_choice("so the answer is (C)", OPTS).method == "stated"
    assert extract_choice("nonsense", OPTS).method == "unparseable"


def test_choice_from_logprobs_pools_token_variants():
    letter, probs = choice_from_logprobs(
        {" A": -2.0, "A": -2.0, " B": -1.5, "\n": -0.1, " The": -0.5}, ["A", "B", "C", "D"]
    )
    # A: log(2 e^-2) = -1.307 > B: -1.5
    assert letter == "A"
    assert set(probs) == {"A", "B"}
    assert abs(sum(probs.values()) - 1) < 1e-9


def test_choice_from_logprobs_none_when_no_letter():
    assert choice_from_logprobs({"\n": -0.1, " The": -1.0}, ["A", "B"]) == (None, {})
