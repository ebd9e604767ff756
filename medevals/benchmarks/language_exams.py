"""Medical licensing and specialisation exams in Spanish, French, Chinese and Japanese.

Each is data mapping plus configuration (the folder layouts of ``../shared/data``, see each
SOURCE.md). Items are stamped with their language (``metadata["language"]``), so prompts and
answer phrases follow it unless ``--set language=X`` says otherwise. Items that admit several
correct options are answer-set items (``mapping.mcq_set_item``). Rows that cannot be put to a
text model as they stand (a question about an image the data does not ship) are ``Skipped``:
counted by reason in the manifest and beside the metrics, never silently dropped. Fields that
leak the answer (CMExam's ``Explanation``, FrenchMedMCQA's ``nbr_correct_answers`` and ``type``,
IgakuQA's ``_metadata.jsonl``) are never read into items.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, HubSource, Skipped
from medevals.benchmarks.mapping import LETTERS, mcq_item, mcq_set_item
from medevals.benchmarks.readers import read_csv, read_json, read_jsonl, require
from medevals.errors import ConfigError, DataError
from medevals.schema import Item, Taxonomy
from medevals.scoring.numeric_entry import template_of

EXAMS = Taxonomy(category="Medical knowledge", subcategory="Licensing and specialisation exams (non-English)")
NO_IMAGE = "refers to an image the data does not ship"

# --------------------------------------------------------------------------- HEAD-QA (Spanish)

HEADQA_FILE = "test_HEAD_clinical4.json"
HEADQA_CATEGORIES = ("medicine", "nursery", "pharmacology", "biology")


def _headqa_row(
    q: dict[str, Any], *, exam: str, category: str, year: Any, where: Path | str, line: int
) -> Item | Skipped:
    qid = str(require(q, "qid", where, line, kind=(str, int)))
    item_id = f"{year}-{category}-{qid}"
    if q.get("image"):
        return Skipped(item_id, NO_IMAGE)
    answers = require(q, "answers", where, line, kind=list)
    choices: dict[str, str] = {}
    for a in answers:
        aid = a.get("aid") if isinstance(a, dict) else None
        if not isinstance(aid, int) or not 1 <= aid <= len(LETTERS):
            raise DataError(
                f"answer id {aid!r} is not an option number", path=where, line=line, field="answers"
            )
        choices[LETTERS[aid - 1]] = a.get("atext")
    ra = str(require(q, "ra", where, line, kind=(str, int))).strip()
    if not ra.isdigit() or not 1 <= int(ra) <= len(LETTERS):
        raise DataError(f"'ra' {ra!r} is not an option number", path=where, line=line, field="ra")
    return mcq_item(
        id=item_id,
        question=require(q, "qtext", where, line),
        choices=choices,
        answer=LETTERS[int(ra) - 1],
        answer_field="ra",
        where=where,
        line=line,
        subset=category,
        metadata={"language": "es", "exam": exam},
    )


def _headqa_local(folder: Path, split: str) -> list[Item | Skipped]:
    path = folder / HEADQA_FILE
    data = read_json(path)
    exams = data.get("exams") if isinstance(data, dict) else None
    if not isinstance(exams, dict):
        raise DataError("expected an object with 'exams'", path=path, field="exams")
    out: list[Item | Skipped] = []
    n = 0
    for name, exam in exams.items():
        category, year = exam.get("category"), exam.get("year")
        for q in require(exam, "data", path, n + 1, kind=list):
            n += 1  # question number across the file (the JSON has one line)
            out.append(_headqa_row(q, exam=name, category=category, year=year, where=path, line=n))
    return out


def _headqa_hub(row: dict[str, Any], i: int, config: str) -> Item | Skipped:
    """A row of ``dvilares/head_qa`` (config ``es``): the test split has every category; medevals'
    set is the four clinical ones (psychology and chemistry are not in the staged subset)."""
    category = row.get("category")
    year = row.get("year")
    if category not in HEADQA_CATEGORIES:
        return Skipped(
            f"{year}-{category}-{row.get('qid')}", "psychology/chemistry exam (not in the clinical subset)"
        )
    q = dict(row, qid=str(row.get("qid")), image="image" if row.get("image") else "")
    return _headqa_row(
        q, exam=str(row.get("name")), category=category, year=year, where="hub:dvilares/head_qa", line=i + 1
    )


HEADQA = Benchmark(
    name="headqa",
    title="HEAD-QA (Spanish healthcare specialisation exams)",
    protocol="mcq",
    task_type="multiple choice (4), Spanish",
    taxonomy=EXAMS,
    license="data: Spanish Ministerio de Sanidad reuse conditions (cite, do not alter; 2019-01-14); code MIT",
    source="Vilares & Gómez-Rodríguez 2019, HEAD-QA (aghie/head-qa; v1.0 release as committed in claudiaqw/head-qa-afi)",
    description="MIR/EIR/FIR/BIR exams 2016-2017 (medicine, nursing, pharmacology, biology), 1,829 test "
    "questions; 67 medicine questions about an image the data does not ship are skipped and counted. "
    "Scored as accuracy with the exam's net score (+3/-1/0) beside it.",
    splits={"test": 1829},
    default_split="test",
    local_dir="headqa",
    load_local=_headqa_local,
    local_files=lambda folder, split: [folder / HEADQA_FILE],
    hub=HubSource(path="dvilares/head_qa", configs=("es",), splits={"test": "test"}, map_row=_headqa_hub),
    options={"exam_score": "head-qa"},
    languages=("es",),
    aliases=("head-qa",),
)

# --------------------------------------------------------------------------- FrenchMedMCQA (French)

FRENCH_LETTERS = "abcde"


def _frenchmedmcqa_row(
    row: dict[str, Any], choices: dict[str, Any], answers: list[Any], where: Path | str, line: int
) -> Item:
    # nbr_correct_answers (and dev's 'type') state how many options are right: never shown.
    return mcq_set_item(
        id=require(row, "id", where, line),
        question=require(row, "question", where, line),
        choices={k.upper(): v for k, v in choices.items()},
        answers=[str(a) for a in answers],
        answer_field="correct_answers",
        where=where,
        line=line,
        metadata={"language": "fr"},
    )


def _frenchmedmcqa_local(folder: Path, split: str) -> list[Item]:
    path = folder / f"{split}.json"
    data = read_json(path)
    if not isinstance(data, list):
        raise DataError("expected a JSON list of questions", path=path)
    items = []
    for n, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise DataError("expected an object", path=path, line=n)
        choices = require(row, "answers", path, n, kind=dict)
        answers = require(row, "correct_answers", path, n, kind=list)
        items.append(_frenchmedmcqa_row(row, choices, answers, path, n))
    return items


def _frenchmedmcqa_hub(row: dict[str, Any], i: int, config: str) -> Item:
    choices = {x: row.get(f"answer_{x}") for x in FRENCH_LETTERS}
    return _frenchmedmcqa_row(
        row, choices, list(row.get("correct_answers") or []), "hub:qanastek/frenchmedmcqa", i + 1
    )


FRENCHMEDMCQA = Benchmark(
    name="frenchmedmcqa",
    title="FrenchMedMCQA (French pharmacy exam, one or more correct options)",
    protocol="mcq",
    task_type="multiple choice (5), 1-5 correct, French",
    taxonomy=EXAMS,
    license="Apache-2.0 (upstream README badge); cite Labrak et al., LOUHI 2022",
    source="Labrak et al. 2022, FrenchMedMCQA (qanastek/FrenchMedMCQA)",
    description="French pharmacy specialisation diploma questions, 5 options of which 1-5 are correct (48% "
    "of test items have several); scored as exact match ratio (headline) and Hamming score; dev "
    "(312) is the few-shot pool.",
    splits={"test": 622, "dev": 312},
    default_split="test",
    fewshot_split="dev",
    local_dir="frenchmedmcqa",
    load_local=_frenchmedmcqa_local,
    local_files=lambda folder, split: [folder / f"{split}.json"],
    hub=HubSource(
        path="qanastek/frenchmedmcqa",
        splits={"test": "test", "dev": "validation"},
        map_row=_frenchmedmcqa_hub,
    ),
    languages=("fr",),
    answer_sets=True,
)

# --------------------------------------------------------------------------- CMExam (Chinese)

CMEXAM_FILE = "val_stride2000.csv"
_CMEXAM_OPTION = re.compile(r"([A-Z])\s+(.*)", re.S)


def _cmexam_local(folder: Path, split: str) -> list[Item | Skipped]:
    path = folder / CMEXAM_FILE
    out: list[Item | Skipped] = []
    for n, (line, row) in enumerate(read_csv(path)):
        item_id = f"val-{n:04d}"
        answer = str(require(row, "Answer", path, line)).strip()
        if not re.fullmatch(r"[A-Z]+", answer):
            out.append(Skipped(item_id, f"no answer key in the source ({answer!r})"))
            continue
        choices: dict[str, str] = {}
        # options are separated by the two characters backslash + n (see SOURCE.md)
        for part in str(require(row, "Options", path, line)).split("\\n"):
            m = _CMEXAM_OPTION.fullmatch(part.strip())
            if not m:
                raise DataError(
                    f"option {part!r} does not start with a letter", path=path, line=line, field="Options"
                )
            choices[m.group(1)] = m.group(2)
        # The exam mixes single-answer (A1/A2/A3/B1) and multiple-answer (X) questions and this
        # split does not say which is which: every item admits several options, as upstream's
        # exact-match grading of whatever letters the model gives. Explanation leaks: never read.
        out.append(
            mcq_set_item(
                id=item_id,
                question=require(row, "Question", path, line),
                choices=choices,
                answers=list(answer),
                answer_field="Answer",
                where=path,
                line=line,
                metadata={"language": "zh"},
            )
        )
    return out


CMEXAM = Benchmark(
    name="cmexam",
    title="CMExam (Chinese National Medical Licensing Examination)",
    protocol="mcq",
    task_type="multiple choice (4-5), some with several correct options, Chinese",
    taxonomy=EXAMS,
    license="Apache-2.0 (williamliujl/CMExam); research use",
    source="Liu et al. 2023, Benchmarking LLMs on CMExam (williamliujl/CMExam; val split via kyre-99/CMExam-Dataset)",
    description="2,000 of the 6,811 validation questions (even stride); 68 have several correct options "
    "and one has no answer key ('nan': skipped and counted). Every item admits several options (the "
    "split does not say which are multiple-answer questions); scored as exact match of the option set.",
    splits={"val": 2000},
    default_split="val",
    local_dir="cmexam",
    load_local=_cmexam_local,
    local_files=lambda folder, split: [folder / CMEXAM_FILE],
    languages=("zh",),
    answer_sets=True,
)

# --------------------------------------------------------------------------- IgakuQA (Japanese)

IGAKUQA_EXAMS = {"2018": "112", "2019": "113", "2020": "114", "2021": "115", "2022": "116"}
_SELECT = re.compile(r"([0-9０-９])つ選べ")
#: 116A71: every answer was credited after the exam; 112B30: either a or d (upstream evaluate_main.py).
_ANY_ANSWER = {"116A71"}
TRANSLATIONS = ("ja", "en", "both")


def _igakuqa_files(folder: Path, translated: bool) -> list[Path]:
    files = []
    for year, exam in IGAKUQA_EXAMS.items():
        for block in "ABCDEF":
            files.append(folder / year / f"{exam}-{block}.jsonl")
            if translated:
                files.append(folder / year / f"{exam}-{block}_translate.jsonl")
    return files


def _igakuqa_item(
    row: dict[str, Any], text: str, options: list[str], *, lang: str, where: Path, line: int
) -> Item | Skipped:
    pid = str(require(row, "problem_id", where, line))
    item_id = pid if lang == "ja" else f"{pid}:{lang}"
    if row.get("text_only") is False:
        return Skipped(item_id, NO_IMAGE + " (text_only: false)")
    key = [str(a).strip() for a in require(row, "answer", where, line, kind=list)]
    exam = pid[:3]
    meta: dict[str, Any] = {"language": lang, "exam": exam, "points": int(row.get("points") or 0)}
    if not options:  # numeric entry: the key fills the answer boxes the (Japanese) question prints
        if len(key) != 1 or not re.fullmatch(r"\d+(?:\.\d+)?", key[0]):
            raise DataError(f"numeric answer {key} is not one number", path=where, line=line, field="answer")
        box = template_of(row.get("problem_text", ""))
        meta.update(answer_type="number", box=box)
        question = text
        if box and not re.search("[①-⑩]", text):  # some translations drop the boxes, which say how to answer
            question = f"{text}\n(Answer boxes: {box})"
        return Item(id=item_id, input=question, target=key[0], subset=exam, metadata=meta)
    choices = {LETTERS[i]: o for i, o in enumerate(options)}
    accept: list[Any] = []
    if len(key) == 1 and " or " in key[0]:  # "a or d": either is right
        alts = [a.strip().upper() for a in key[0].split(" or ")]
        key, accept = [alts[0]], alts[1:]
    if pid in _ANY_ANSWER:
        accept = [k for k in choices if k != key[0].upper()]
    m = _SELECT.search(row.get("problem_text", ""))
    common = {"id": item_id, "question": text, "choices": choices, "where": where, "line": line}
    if m:  # the question states how many to choose ("2つ選べ"): an answer-set item
        n_select = int(m.group(1).translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        item = mcq_set_item(
            **common, answers=key, answer_field="answer", n_select=n_select, subset=exam, metadata=meta
        )
        if accept:
            item.metadata["accept"] = [[a] for a in accept]
        return item
    if len(key) != 1:
        raise DataError(
            f"answer {key} names several options but the question asks for one",
            path=where,
            line=line,
            field="answer",
        )
    if accept:
        meta["accept"] = accept
    return mcq_item(**common, answer=key[0], subset=exam, metadata=meta)


def _igakuqa_local(folder: Path, split: str, translation: str = "ja") -> list[Item | Skipped]:
    if split == "en":
        translation = "en"
    if translation not in TRANSLATIONS:
        raise ConfigError(
            f"igakuqa: translation must be one of {', '.join(TRANSLATIONS)}, got '{translation}'"
        )
    out: list[Item | Skipped] = []
    for path in _igakuqa_files(folder, translated=False):
        rows = list(read_jsonl(path))
        english: dict[str, tuple[int, dict[str, Any]]] = {}
        if translation != "ja":
            tpath = path.with_name(path.stem + "_translate.jsonl")
            english = {str(r.get("problem_id")): (ln, r) for ln, r in read_jsonl(tpath)}
        for line, row in rows:
            if translation in ("ja", "both"):
                text = require(row, "problem_text", path, line)
                options = require(row, "choices", path, line, kind=list)
                out.append(_igakuqa_item(row, text, options, lang="ja", where=path, line=line))
            if translation in ("en", "both"):
                pid = str(row.get("problem_id"))
                if pid not in english:
                    raise DataError(
                        f"problem {pid} has no English translation", path=tpath, field="problem_id"
                    )
                tline, trow = english[pid]
                text = require(trow, "problem_text_en", tpath, tline)
                options = require(trow, "choices_en", tpath, tline, kind=list)
                # the key and the count to choose come from the Japanese row (the translation's
                # 'answer'/'asnwer' duplicate it)
                out.append(_igakuqa_item(row, text, options, lang="en", where=tpath, line=tline))
    return out


IGAKUQA = Benchmark(
    name="igakuqa",
    title="IgakuQA (Japanese National Medical Licensing Examination 2018-2022)",
    protocol="mcq",
    task_type="multiple choice (5; some choose 2-3), Japanese",
    taxonomy=EXAMS,
    license="not stated upstream (questions from the MHLW website); cite Kasai et al. 2023",
    source="Kasai et al. 2023, Evaluating GPT-4 and ChatGPT on Japanese Medical Licensing Examinations "
    "(jungokasai/IgakuQA)",
    description="5 exams (112th-116th) x 400 questions; 529 refer to figures the data does not ship: "
    "skipped and counted. 298 ask for 2-3 options (answer sets, the count stated in the question); 12 are "
    "numeric entry (answer boxes, judged by value or box digits). --set translation=en (or the split igakuqa:en) uses the English translations "
    "beside the data, translation=both runs each question in both languages (results split by language).",
    splits={"test": 2000, "en": 2000},
    default_split="test",
    local_dir="igakuqa",
    load_local=_igakuqa_local,
    local_files=lambda folder, split, translation="ja": _igakuqa_files(
        folder, translated=split == "en" or translation != "ja"
    ),
    options={"exam_score": "igakuqa"},
    load_options=("translation",),
    languages=("ja", "en"),
    answer_sets=True,
)
