"""Image benchmarks: covid-cxr (real chest X-rays, tasks built from their metadata) and MediConfusion.

covid-cxr (``$MEDEVALS_DATA/covid_chestxray``, ieee8023/covid-chestxray-dataset @ 0f7245db,
162 staged X-ray images of 79 patients) has no questions of its own; the four tasks below are
built only from the labels in ``subset_manifest.csv`` (``finding``, ``view``, ``patientid``,
``offset``). Images are sent by content (their file names, 42 of which spell the diagnosis, never
reach a prompt), and ``clinical_notes``, ``url`` and ``doi`` are never read. The README section
"Images" documents the construction; item ids are neutral (image hash prefix or patient id).

==================  =====  ==========================================================================
task (split)        items  construction
==================  =====  ==========================================================================
``finding``         151    one image; 4 options: its finding label + 3 others drawn from the labels
                           it cannot also be (see ``COMPATIBLE``), seeded by the image hash;
                           the 11 images labelled only "Pneumonia" (organism unspecified, compatible
                           with every infection) are left out
``view``            162    one image; PA / AP / lateral (metadata "AP Supine" counts as AP)
``frontal-lateral`` 12     a frontal and a lateral image of one patient (same day when possible,
                           else nearest day); the finding of the frontal image, options as above
                           (13 patients have both views; one frontal image is "Pneumonia" only)
``longitudinal``    33     the earliest and the latest study of one patient (distinct ``offset``
                           days, frontal views preferred); which image is later? order alternates
                           by patient so the answer is A for half of them
==================  =====  ==========================================================================

The 5 images listed under two patient ids each are used once (first row). Labels are
source-reported, images are mostly figures from case reports (burned-in letters, arrows): a
plumbing and robustness set, not a diagnostic benchmark (upstream says so too).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.mapping import LETTERS, mcq_item
from medevals.benchmarks.readers import read_csv, read_json, require
from medevals.errors import DataError
from medevals.schema import Item, ItemImage, Taxonomy

IMAGING = Taxonomy(category="Clinical decision support", subcategory="Medical image interpretation")

# --------------------------------------------------------------------------- covid-cxr

COVID_MANIFEST = "subset_manifest.csv"
COVID_TASKS = ("finding", "view", "frontal-lateral", "longitudinal")

#: How a finding label is shown as an option (the metadata's terse labels made readable).
FINDING_TEXT = {
    "COVID-19": "COVID-19 pneumonia",
    "COVID-19, ARDS": "COVID-19 pneumonia with ARDS",
    "ARDS": "Acute respiratory distress syndrome (ARDS)",
    "Klebsiella": "Klebsiella pneumonia",
    "Mycoplasma Bacterial Pneumonia": "Mycoplasma pneumonia",
    "Streptococcus": "Streptococcal pneumonia",
    "Legionella": "Legionella pneumonia",
    "Bacterial": "Bacterial pneumonia, organism unspecified",
    "Pneumocystis": "Pneumocystis pneumonia",
    "Varicella": "Varicella pneumonia",
    "Influenza": "Influenza pneumonia",
    "Lipoid": "Lipoid pneumonia",
    "No Finding": "No finding",
}
#: Labels that can be true of the same image, so neither is a distractor for the other.
COMPATIBLE = [
    {"COVID-19", "COVID-19, ARDS", "ARDS"},
    {"Bacterial", "Klebsiella", "Mycoplasma Bacterial Pneumonia", "Streptococcus", "Legionella"},
]
#: Left out of the finding tasks: compatible with every infectious label, so no distractors exist.
UNSPECIFIED = {"Pneumonia"}
VIEWS = {"PA": "A", "AP": "B", "AP Supine": "B", "L": "C"}
VIEW_CHOICES = {"A": "Posteroanterior (PA)", "B": "Anteroposterior (AP)", "C": "Lateral"}

FINDING_Q = "What is the most likely finding on this chest radiograph?"
VIEW_Q = "Which projection is this chest radiograph?"
FL_Q = (
    "A frontal and a lateral chest radiograph of the same patient are shown. What is the most likely finding?"
)
LONG_Q = "Two chest radiographs of the same patient, taken on different days, are shown. Which one was taken later?"


@dataclass(frozen=True)
class _Cxr:
    line: int
    patient: str
    offset: int | None
    finding: str
    view: str
    license: str
    path: Path
    sha256: str

    @property
    def frontal(self) -> bool:
        return self.view != "L"


def _covid_rows(folder: Path) -> list[_Cxr]:
    path = folder / COVID_MANIFEST
    rows: list[_Cxr] = []
    for line, row in read_csv(path):
        if row.get("duplicate_of_row", "").strip():
            continue  # the same image under a second patient id: used once
        view = require(row, "view", path, line)
        if view not in VIEWS:
            raise DataError(
                f"unknown view '{view}' (known: {', '.join(VIEWS)})", path=path, line=line, field="view"
            )
        offset = row.get("offset", "").strip()
        try:
            off = int(float(offset)) if offset else None
        except ValueError:
            raise DataError(
                f"offset '{offset}' is not a number of days", path=path, line=line, field="offset"
            ) from None
        image = folder / require(row, "image_path", path, line)
        if not image.is_file():
            raise DataError(f"image file '{image}' not found", path=path, line=line, field="image_path")
        rows.append(
            _Cxr(
                line=line,
                patient=require(row, "patientid", path, line),
                offset=off,
                finding=require(row, "finding", path, line),
                view=view,
                license=row.get("license", "").strip(),
                path=image,
                sha256=require(row, "sha256", path, line),
            )
        )
    return rows


def _finding_choices(finding: str, key: str, path: Path, line: int) -> tuple[dict[str, str], str]:
    if finding not in FINDING_TEXT:
        raise DataError(f"unknown finding label '{finding}'", path=path, line=line, field="finding")
    blocked = {finding}.union(*(g for g in COMPATIBLE if finding in g))
    pool = sorted(x for x in FINDING_TEXT if x not in blocked)
    rng = random.Random(f"covid-cxr:{key}")
    options = [finding, *rng.sample(pool, 3)]
    rng.shuffle(options)
    choices = {LETTERS[i]: FINDING_TEXT[x] for i, x in enumerate(options)}
    return choices, LETTERS[options.index(finding)]


def _meta(r: _Cxr, **extra: object) -> dict[str, object]:
    return {"modality": "X-ray", "patient": r.patient, "view": r.view, "license": r.license, **extra}


def _covid_items(folder: Path, task: str) -> list[Item]:
    rows = _covid_rows(folder)
    where = folder / COVID_MANIFEST
    items: list[Item] = []
    if task == "finding":
        for r in rows:
            if r.finding in UNSPECIFIED:
                continue
            choices, answer = _finding_choices(r.finding, r.sha256, where, r.line)
            items.append(
                mcq_item(
                    id=f"finding-{r.sha256[:12]}",
                    question=FINDING_Q,
                    choices=choices,
                    answer=answer,
                    where=where,
                    line=r.line,
                    subset="finding",
                    metadata=_meta(r, finding=r.finding),
                    images=[ItemImage(path=str(r.path))],
                )
            )
    elif task == "view":
        for r in rows:
            items.append(
                mcq_item(
                    id=f"view-{r.sha256[:12]}",
                    question=VIEW_Q,
                    choices=dict(VIEW_CHOICES),
                    answer=VIEWS[r.view],
                    where=where,
                    line=r.line,
                    subset="view",
                    metadata=_meta(r),
                    images=[ItemImage(path=str(r.path))],
                )
            )
    else:
        by_patient: dict[str, list[_Cxr]] = defaultdict(list)
        for r in rows:
            by_patient[r.patient].append(r)
        patients = sorted(by_patient, key=lambda p: (len(p), p))
        if task == "frontal-lateral":
            for p in patients:
                laterals = sorted(
                    (r for r in by_patient[p] if not r.frontal), key=lambda r: (r.offset or 0, r.line)
                )
                frontals = [r for r in by_patient[p] if r.frontal]
                if not laterals or not frontals:
                    continue
                lat = laterals[0]
                front = min(frontals, key=lambda r: (abs((r.offset or 0) - (lat.offset or 0)), r.line))
                if front.finding in UNSPECIFIED:
                    continue
                choices, answer = _finding_choices(
                    front.finding, front.sha256 + lat.sha256, where, front.line
                )
                items.append(
                    mcq_item(
                        id=f"fl-{p}",
                        question=FL_Q,
                        choices=choices,
                        answer=answer,
                        where=where,
                        line=front.line,
                        subset="frontal-lateral",
                        metadata=_meta(front, finding=front.finding, view="frontal+lateral"),
                        images=[
                            ItemImage(path=str(front.path), label="frontal view"),
                            ItemImage(path=str(lat.path), label="lateral view"),
                        ],
                    )
                )
        else:
            k = 0
            for p in patients:
                dated = [r for r in by_patient[p] if r.offset is not None]
                if len({r.offset for r in dated}) < 2:
                    continue
                first_day = min(r.offset for r in dated if r.offset is not None)
                last_day = max(r.offset for r in dated if r.offset is not None)

                def pick(day: int, dated: list[_Cxr] = dated) -> _Cxr:
                    return min((r for r in dated if r.offset == day), key=lambda r: (not r.frontal, r.line))

                early, late = pick(first_day), pick(last_day)
                order, answer = ((early, late), "B") if k % 2 == 0 else ((late, early), "A")
                k += 1
                items.append(
                    mcq_item(
                        id=f"long-{p}",
                        question=LONG_Q,
                        choices={"A": "Image 1", "B": "Image 2"},
                        answer=answer,
                        where=where,
                        line=early.line,
                        subset="longitudinal",
                        metadata=_meta(
                            early, days_apart=last_day - first_day, view="+".join(r.view for r in order)
                        ),
                        images=[ItemImage(path=str(r.path)) for r in order],
                    )
                )
    return items


def _covid_local(folder: Path, split: str) -> list[Item]:
    tasks = COVID_TASKS if split == "test" else (split,)
    return [it for t in tasks for it in _covid_items(folder, t)]


def _covid_files(folder: Path, split: str) -> list[Path]:
    images = folder / "images"
    return [folder / COVID_MANIFEST, *(sorted(images.iterdir()) if images.is_dir() else [])]


COVID_CXR = Benchmark(
    name="covid-cxr",
    title="COVID-19 chest X-ray tasks (ieee8023 collection, 162 licensed images)",
    protocol="mcq",
    task_type="image multiple choice (single and multi-image)",
    taxonomy=IMAGING,
    license="per image (metadata license column; mostly CC BY-NC-SA / CC BY-NC-ND); metadata CC BY-NC-SA 4.0",
    source="Cohen et al. 2020, COVID-19 image data collection (ieee8023/covid-chestxray-dataset @ 0f7245db)",
    description="Finding (4 options), view (PA/AP/lateral), frontal+lateral finding and which-study-is-later "
    "items built from the collection's metadata labels; file names, URLs, DOIs and notes never reach a prompt.",
    splits={"test": 358, "finding": 151, "view": 162, "frontal-lateral": 12, "longitudinal": 33},
    default_split="test",
    local_dir="covid_chestxray",
    load_local=_covid_local,
    local_files=_covid_files,
    images=True,
)

# --------------------------------------------------------------------------- MediConfusion

MC_DATASET = "dataset.json"
MC_IMAGE_DICT = "image_dict.json"
MC_PROMPTS = "prompts/answering.json"
#: Upstream's multiple-choice prompt for API models (configs/prompts/answering.json: mc -> gpt) and
#: its default system prompt (init_prompts -> default, typo included), verbatim.
MC_PROMPT = (
    "Based on the image, choose the correct option for the following question.\nQuestion: {question}\n"
    "A: {A}\nB: {B}\nAnswer with the option's letter from the given choices directly. "
    "Your answer should be just one letter.\nAnswer: "
)
MC_SYSTEM = "You are a helpful assitant expert in medical domain."
MC_HOWTO = (
    "the 228 MediConfusion images are not redistributable and not staged: download them with upstream's "
    "script (git clone https://github.com/AIF4S/MediConfusion && cd MediConfusion && python scripts/download.py "
    "--save_path DIR; it fetches the PMC open-access figures) and pass --set images=DIR"
)


def _mc_image_path(images: Path, roco: str, local: int) -> Path | None:
    """Upstream's two layouts: ``DIR/<local id>.jpg`` (scripts/download.py) or the ROCO tree by ROCO path."""
    for p in (images / f"{local}.jpg", images / roco, images / "roco-dataset" / "data" / roco):
        if p.is_file():
            return p
    return None


def _mc_rows(folder: Path) -> list[tuple[int, str, dict[str, object]]]:
    path = folder / MC_DATASET
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("expected an object keyed by pair id", path=path)
    return [(i, str(k), v) for i, (k, v) in enumerate(sorted(data.items()), start=1)]


def _mediconfusion_local(folder: Path, split: str, images: str | None = None) -> list[Item]:
    path = folder / MC_DATASET
    if not images:
        raise DataError(f"mediconfusion: {MC_HOWTO}")
    image_dir = Path(str(images)).expanduser()
    if not image_dir.is_dir():
        raise DataError(f"mediconfusion: --set images={images}: no such folder; {MC_HOWTO}")
    items: list[Item] = []
    missing: list[str] = []
    for line, pair_id, row in _mc_rows(folder):
        if not isinstance(row, dict):
            raise DataError("a pair must be an object", path=path, line=line, field=pair_id)
        paths = []
        for k in ("im_1", "im_2"):
            roco = require(row, k, path, line)
            local = require(row, f"{k}_local", path, line, kind=int)
            p = _mc_image_path(image_dir, roco, local)
            if p is None:
                missing.append(f"{local}.jpg")
            else:
                paths.append(p)
        if len(paths) != 2:
            continue
        targets = [require(row, f"im_{i}_correct", path, line) for i in (1, 2)]
        choices = {"A": require(row, "option_A", path, line), "B": require(row, "option_B", path, line)}
        if any(t not in choices for t in targets):
            raise DataError(f"answers {targets} are not A/B", path=path, line=line, field="im_1_correct")
        items.append(
            Item(
                id=pair_id,
                input=require(row, "question", path, line),
                choices=choices,
                target=targets,
                # captions (cap_1/cap_2) state the answers: never mapped; categories are for tables only
                metadata={
                    "categories": [list(row.get("category_1") or []), list(row.get("category_2") or [])],
                    "modality": "radiology (ROCO)",
                },
                images=[ItemImage(path=str(p)) for p in paths],
            )
        )
    if missing:
        raise DataError(
            f"mediconfusion: {len(missing)} of the images are missing from {image_dir} "
            f"(first: {missing[0]}); {MC_HOWTO}"
        )
    return items


def _mediconfusion_files(folder: Path, split: str, images: str | None = None) -> list[Path]:
    files = [folder / MC_DATASET]
    if images:
        image_dir = Path(str(images)).expanduser()
        for _, _, row in _mc_rows(folder):
            for k in ("im_1", "im_2"):
                p = _mc_image_path(image_dir, str(row[k]), int(row[f"{k}_local"]))  # type: ignore[arg-type]
                if p is not None and p not in files:
                    files.append(p)
    return files


MEDICONFUSION = Benchmark(
    name="mediconfusion",
    title="MediConfusion (confusing image pairs, set accuracy)",
    protocol="paired-mcq",
    task_type="paired-image multiple choice (2 options)",
    taxonomy=IMAGING,
    license="MIT (annotations); images: PMC open-access figures under their articles' licences (not redistributed)",
    source="Sepehri et al. 2024, MediConfusion: Can you trust your AI radiologist? (AIF4S/MediConfusion @ a3045b03)",
    description="176 pairs of ROCO radiology images sharing a question and 2 options with different answers; "
    "scored per pair: set accuracy (both right) and confusion (same option for both). Needs --set images=DIR.",
    splits={"test": 176},
    default_split="test",
    local_dir="mediconfusion",
    load_local=_mediconfusion_local,  # type: ignore[arg-type]
    local_files=_mediconfusion_files,  # type: ignore[arg-type]
    options={
        "prompt_template": MC_PROMPT,
        "system_prompt": MC_SYSTEM,
        "image_position": "after",
        "answer_rule": "mediconfusion",
        "max_tokens": 32,
        "temperature": 0.0,
    },
    images=True,
    load_options=("images",),
)
