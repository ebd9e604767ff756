"""Step verification: how a verifier's reply is read, and the metrics (ProcessBench's first-error
accuracy on erroneous and clean chains and their harmonic mean; step-level P/R/F1), by hand."""

from __future__ import annotations

import math

import pytest

from medevals.protocols.steps import processbench_f1, read_first_wrong, step_counts, step_prf

# (reply, steps in the chain, step read: 0 = none, None = unreadable)
READ = [
    ('{"first_wrong_step": 3, "explanation": "x"}', 5, 3),
    ('{"first_wrong_step": "3"}', 5, 3),
    ('{"first_wrong_step": "Step 3"}', 5, 3),
    ('{"first_wrong_step": "none"}', 5, 0),
    ('{"first_wrong_step": null}', 5, 0),
    ('{"first_wrong_step": -1}', 5, 0),  # ProcessBench's "no error" index
    ('{"first_wrong_step": 0}', 5, 0),
    ('{"first_wrong_step": 9}', 5, None),  # no such step
    ('{"first_wrong_step": 2.5}', 5, None),
    ('{"first_wrong_step": true}', 5, None),
    ('Checking... {"first_wrong_step": 2} then {"note": 1}', 5, 2),  # a stray trailing object is skipped
    ("The first wrong step is step 4.", 5, 4),
    ("The first incorrect step is [2]", 5, 2),
    ("none", 5, 0),
    ("4", 5, 4),
    ("Step 2 and step 3 look odd", 5, None),  # no answer stated: unreadable, never the first number
    ("", 5, None),
]


@pytest.mark.parametrize(("reply", "n", "expected"), READ)
def test_reading(reply, n, expected):
    assert read_first_wrong(reply, n) == expected


def test_metrics_by_hand():
    # (label, named, type): 4 erroneous chains, 3 clean
    rows = [
        (3, 3, "arithmetic"),  # right: TP
        (2, 4, "value"),  # too late: FP + FN
        (5, 0, "unit"),  # missed: FN
        (1, None, "coefficient"),  # unreadable: FN
        (0, 0, "clean"),  # right
        (0, 2, "clean"),  # false alarm: FP
        (0, 0, "clean"),  # right
    ]
    assert step_counts(rows) == {"tp": 1, "fp": 2, "fn": 3}
    p, r, f = step_prf(rows)
    assert (p, r) == (1 / 3, 1 / 4) and math.isclose(f, 2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))
    acc_err, acc_clean = 1 / 4, 2 / 3
    assert math.isclose(processbench_f1(rows), 2 * acc_err * acc_clean / (acc_err + acc_clean))
    assert math.isnan(step_prf([(0, 0, "clean")])[0])  # nothing named: precision undefined, not 0
