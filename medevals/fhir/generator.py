"""Seeded synthetic patients for the sandbox: demographics, labs over time, vitals, meds, problems.

Every number comes from ``random.Random(seed)`` so the same seed always yields the same
record, and every task's ground truth is computed from these resources (never stored beside
them). Lab histories are shaped so each task branch occurs: magnesium drawn in the last 24
hours or not, low or normal; low and normal potassium; HbA1c recent, stale or missing;
several glucose checks in the last day for some patients and none for others.

Names, codes and values are synthetic. Lab codes follow MedAgentBench's short codes (``MG``,
``K``, ``GLU``, ``A1C``) with the matching LOINC coding beside them, so searches by either work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

NOW = datetime(2023, 11, 13, 10, 15, tzinfo=UTC)
"""The clock MedAgentBench's task contexts state ("It's 2023-11-13T10:15:00+00:00 now")."""

LOINC = "http://loinc.org"


@dataclass(frozen=True)
class Lab:
    code: str
    loinc: str
    display: str
    unit: str
    low: float
    high: float
    decimals: int


LABS: dict[str, Lab] = {
    "MG": Lab("MG", "2601-3", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 1.7, 2.4, 1),
    "K": Lab("K", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 1),
    "GLU": Lab("GLU", "2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 70, 180, 0),
    "A1C": Lab("A1C", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.8, 6.4, 1),
    "NA": Lab("NA", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 145, 0),
    "CREAT": Lab("CREAT", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.3, 2),
}

GIVEN_F = (
    "Maria",
    "Linda",
    "Susan",
    "Karen",
    "Nancy",
    "Betty",
    "Helen",
    "Sandra",
    "Donna",
    "Carol",
    "Ruth",
    "Sharon",
    "Michelle",
    "Laura",
    "Sarah",
    "Kimberly",
    "Deborah",
    "Jessica",
    "Shirley",
    "Cynthia",
    "Angela",
    "Melissa",
    "Brenda",
    "Amy",
    "Anna",
    "Rebecca",
    "Virginia",
    "Kathleen",
    "Pamela",
    "Martha",
    "Debra",
    "Amanda",
    "Stephanie",
    "Carolyn",
    "Christine",
    "Janet",
    "Irene",
)
GIVEN_M = (
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "Andrew",
    "Joshua",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Timothy",
    "Ronald",
    "Edward",
    "Jason",
    "Jeffrey",
    "Ryan",
    "Jacob",
    "Gary",
    "Nicholas",
    "Eric",
    "Jonathan",
    "Stephen",
    "Larry",
)
FAMILY = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Okafor",
    "Kowalski",
    "Chen",
    "Patel",
)
CITIES = (
    ("Springfield", "IL", "62701"),
    ("Riverside", "CA", "92501"),
    ("Franklin", "TN", "37064"),
    ("Greenville", "SC", "29601"),
    ("Madison", "WI", "53703"),
    ("Salem", "OR", "97301"),
)
PROBLEMS = (
    ("44054006", "Type 2 diabetes mellitus"),
    ("38341003", "Hypertensive disorder"),
    ("55822004", "Hyperlipidemia"),
    ("195967001", "Asthma"),
    ("13645005", "Chronic obstructive lung disease"),
    ("709044004", "Chronic kidney disease"),
)
MEDS = (
    ("metformin 500 mg oral tablet", "oral", 500, "mg"),
    ("lisinopril 10 mg oral tablet", "oral", 10, "mg"),
    ("atorvastatin 20 mg oral tablet", "oral", 20, "mg"),
    ("albuterol 90 mcg inhaler", "inhalation", 90, "mcg"),
    ("furosemide 40 mg oral tablet", "oral", 40, "mg"),
    ("amlodipine 5 mg oral tablet", "oral", 5, "mg"),
)
PROCEDURES = (
    ("45378", "Colonoscopy, diagnostic"),
    ("93000", "Electrocardiogram, complete"),
    ("71046", "Chest X-ray, 2 views"),
)


def vital_signs_category() -> list[dict[str, Any]]:
    """The FHIR observation category of a vital sign (a fresh copy: resources are mutated later)."""
    return [
        {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/observation-category",
                    "code": "vital-signs",
                    "display": "Vital Signs",
                }
            ]
        }
    ]


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


class _Builder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.resources: list[dict[str, Any]] = []

    def lab(self, mrn: str, lab: Lab, when: datetime, value: float) -> None:
        n = len(self.resources)
        self.resources.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{mrn}-{n}",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "laboratory",
                                "display": "Laboratory",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [{"system": LOINC, "code": lab.loinc, "display": lab.display}],
                    "text": lab.code,
                },
                "subject": {"reference": f"Patient/{mrn}"},
                "effectiveDateTime": _iso(when),
                "issued": _iso(when + timedelta(hours=1)),
                "valueQuantity": {
                    "value": value,
                    "unit": lab.unit,
                    "system": "http://unitsofmeasure.org",
                    "code": lab.unit,
                },
            }
        )

    def value(self, lab: Lab, lo: float | None = None, hi: float | None = None) -> float:
        v = self.rng.uniform(lab.low if lo is None else lo, lab.high if hi is None else hi)
        return round(v, lab.decimals) if lab.decimals else float(round(v))

    def past(self, days_lo: float, days_hi: float) -> datetime:
        t = NOW - timedelta(days=self.rng.uniform(days_lo, days_hi))
        return t.replace(second=0, microsecond=0)


def _patient(rng: random.Random, mrn: str) -> dict[str, Any]:
    gender = rng.choice(("female", "male"))
    given = rng.choice(GIVEN_F if gender == "female" else GIVEN_M)
    family = rng.choice(FAMILY)
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 75 * 365))
    city, state, postal = rng.choice(CITIES)
    return {
        "resourceType": "Patient",
        "id": mrn,
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical Record Number",
                        }
                    ]
                },
                "value": mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "telecom": [
            {
                "system": "phone",
                "value": f"555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
                "use": "home",
            }
        ],
        "gender": gender,
        "birthDate": birth.isoformat(),
        "address": [
            {
                "line": [f"{rng.randrange(1, 999)} {rng.choice(FAMILY)} Street"],
                "city": city,
                "state": state,
                "postalCode": postal,
            }
        ],
    }


def _labs(b: _Builder, mrn: str) -> None:
    rng = b.rng
    # history: routine panels over three years
    for _ in range(rng.randrange(2, 7)):
        when = b.past(30, 3 * 365)
        for code in ("MG", "K", "NA", "CREAT", "GLU"):
            b.lab(mrn, LABS[code], when, b.value(LABS[code]))
    # magnesium in the last 24 h: none, normal, mild, moderate or severe deficiency
    mg = rng.choices(("none", "normal", "mild", "moderate", "severe"), (30, 30, 20, 12, 8))[0]
    if mg != "none":
        lo, hi = {"normal": (2.0, 2.5), "mild": (1.5, 1.9), "moderate": (1.0, 1.4), "severe": (0.6, 0.9)}[mg]
        if rng.random() < 0.4:  # an earlier draw the same day
            b.lab(mrn, LABS["MG"], b.past(0.6, 0.95), b.value(LABS["MG"], 1.7, 2.4))
        b.lab(mrn, LABS["MG"], b.past(0.05, 0.5), b.value(LABS["MG"], lo, hi))
    elif rng.random() < 0.5:  # a draw just outside the window
        b.lab(mrn, LABS["MG"], b.past(1.05, 3), b.value(LABS["MG"], 1.0, 2.4))
    # potassium: the latest value low for about half the patients
    k_lo, k_hi = (2.5, 3.4) if rng.random() < 0.5 else (3.5, 5.0)
    b.lab(mrn, LABS["K"], b.past(0.1, 20), b.value(LABS["K"], k_lo, k_hi))
    # capillary glucose checks in the last 24 h for about 60%
    if rng.random() < 0.6:
        for _ in range(rng.randrange(1, 6)):
            b.lab(mrn, LABS["GLU"], b.past(0.02, 0.98), b.value(LABS["GLU"], 70, 320))
    # HbA1c: missing, recent (< 1 year) or stale (> 1 year)
    a1c = rng.choices(("none", "recent", "stale"), (20, 45, 35))[0]
    if a1c != "none":
        span = (5, 330) if a1c == "recent" else (400, 1400)
        for _ in range(rng.randrange(1, 4)):
            b.lab(mrn, LABS["A1C"], b.past(*span), b.value(LABS["A1C"], 5.0, 11.0))
            span = (span[1] + 30, span[1] + 700)


def _vitals(b: _Builder, mrn: str) -> None:
    rng = b.rng
    for _ in range(rng.randrange(1, 5)):
        when = b.past(0.2, 400)
        sys_bp = rng.randrange(100, 170)
        n = len(b.resources)
        b.resources.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{mrn}-{n}",
                "status": "final",
                "category": vital_signs_category(),
                "code": {"text": "BP"},
                "subject": {"reference": f"Patient/{mrn}"},
                "effectiveDateTime": _iso(when),
                "valueString": f"{sys_bp}/{rng.randrange(55, min(sys_bp - 20, 110))} mmHg",
            }
        )
        b.resources.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{mrn}-{n + 1}",
                "status": "final",
                "category": vital_signs_category(),
                "code": {
                    "coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}],
                    "text": "PULSE",
                },
                "subject": {"reference": f"Patient/{mrn}"},
                "effectiveDateTime": _iso(when),
                "valueQuantity": {"value": rng.randrange(55, 115), "unit": "/min"},
            }
        )


def _chart(b: _Builder, mrn: str) -> None:
    rng = b.rng
    for code, display in rng.sample(PROBLEMS, rng.randrange(0, 4)):
        b.resources.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{mrn}-{code}",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                "code": "problem-list-item",
                                "display": "Problem List Item",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}],
                    "text": display,
                },
                "subject": {"reference": f"Patient/{mrn}"},
                "onsetDateTime": _iso(b.past(200, 5000)),
            }
        )
    for i, (name, route, dose, unit) in enumerate(rng.sample(MEDS, rng.randrange(0, 4))):
        b.resources.append(
            {
                "resourceType": "MedicationRequest",
                "id": f"med-{mrn}-{i}",
                "status": rng.choice(("active", "active", "completed")),
                "intent": "order",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                                "code": "community",
                                "display": "Community",
                            }
                        ]
                    }
                ],
                "medicationCodeableConcept": {"text": name},
                "subject": {"reference": f"Patient/{mrn}"},
                "authoredOn": _iso(b.past(10, 900)),
                "dosageInstruction": [
                    {
                        "route": {"text": route},
                        "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit}}],
                    }
                ],
            }
        )
    for code, display in rng.sample(PROCEDURES, rng.randrange(0, 2)):
        b.resources.append(
            {
                "resourceType": "Procedure",
                "id": f"proc-{mrn}-{code}",
                "status": "completed",
                "code": {
                    "coding": [
                        {"system": "http://www.ama-assn.org/go/cpt", "code": code, "display": display}
                    ],
                    "text": display,
                },
                "subject": {"reference": f"Patient/{mrn}"},
                "performedDateTime": _iso(b.past(30, 2000)),
            }
        )


def generate(n_patients: int = 300, seed: int = 0) -> list[dict[str, Any]]:
    """All resources for ``n_patients`` synthetic patients; identical for identical arguments."""
    rng = random.Random(f"medevals-fhir:{seed}")
    b = _Builder(rng)
    mrns: set[str] = set()
    while len(mrns) < n_patients:
        mrns.add(f"S{rng.randrange(1_000_000, 9_999_999)}")
    for mrn in sorted(mrns):
        b.resources.append(_patient(rng, mrn))
        _labs(b, mrn)
        _vitals(b, mrn)
        _chart(b, mrn)
    return b.resources
