"""Conformance table for answer extraction in each prompt language (``scoring/extract.py`` with
``scoring/phrases.py``).

The rules are the English ones (``test_mcq_extraction_conformance.py``); a language only adds
the phrases that state, conclude, reject or negate an answer. Each row: language, model output,
options, the option read (``None`` = unparseable, counted, never guessed), the rule that read it,
and the case that motivated the row (issue 16: "--set language=X ... answer-extraction phrases";
rows with an upstream name come from that benchmark's own answer format).
"""

from __future__ import annotations

import pytest

from medevals.scoring.extract import extract_choice

ES = {
    "A": "Taquicardia auricular.",
    "B": "Fibrilación auricular.",
    "C": "Taquicardia ventricular.",
    "D": "Flutter auricular.",
}
FR = {
    "A": "Le suc gastrique",
    "B": "La bile vésiculaire",
    "C": "Le suc pancréatique",
    "D": "La salive",
    "E": "Les sécrétions intestinales",
}
IT = {"A": "Insulina", "B": "Metformina", "C": "Glibenclamide", "D": "Acarbosio"}
DE = {"A": "Furosemid", "B": "Spironolacton", "C": "Digoxin", "D": "Amiodaron"}
PT = {"A": "Asma", "B": "Pneumonia", "C": "Embolia pulmonar", "D": "Pneumotórax"}
ZH = {"A": "原发病", "B": "出血部位", "C": "出血量", "D": "在胃内停留时间", "E": "以上均非"}
JA = {"A": "夜間高血圧となることが多い。", "B": "肥満患者では減量を推奨する。", "C": "α遮断薬が第一選択薬である。", "D": "減塩を指導する。", "E": "CPAPが有効である。"}  # fmt: skip

# (language, output, options, expected, method, motivating case)
ROWS = [
    # --- Spanish (HEAD-QA) ---
    ("es", "La respuesta correcta es la C.", ES, "C", "stated", "article between statement and letter"),
    ("es", "Respuesta: C", ES, "C", "letter", "'Respuesta:' prefix, the whole reply is the letter"),
    ("es", "C es la respuesta correcta.", ES, "C", "stated", "letter before the Spanish verdict"),
    (
        "es",
        "La opción A es incorrecta y la B también es falsa; la C es la correcta.",
        ES,
        "C",
        "stated",
        "rejected options before the accepted one ('la C', not a name ending in C)",
    ),
    ("es", "No es la A. Por lo tanto, la C.", ES, "C", "stated", "Spanish conclusion word"),
    ("es", "La respuesta no es A.", ES, None, "unparseable", "Spanish negation is never an answer"),
    ("es", "Elijo la opción C.", ES, "C", "stated", "'elijo' (I choose)"),
    (
        "es",
        "La respuesta es taquicardia ventricular.",
        ES,
        "C",
        "option_text",
        "option text after 'la respuesta es'",
    ),
    ("es", "The answer is (B).", ES, "B", "letter", "English conclusion under a Spanish prompt"),
    # --- French (FrenchMedMCQA) ---
    ("fr", "La bonne réponse est C.", FR, "C", "letter", "'La bonne réponse est'"),
    ("fr", "Réponse : C", FR, "C", "letter", "French spacing before the colon"),
    ("fr", "C est la bonne réponse.", FR, "C", "stated", "letter before the French verdict"),
    ("fr", "La proposition A est fausse. Donc C.", FR, "C", "stated", "rejection, then 'donc'"),
    ("fr", "Ce n'est pas A.", FR, None, "unparseable", "French negation 'n'est pas'"),
    ("fr", "La proposition B est fausse.", FR, None, "unparseable", "a rejected option is not an answer"),
    # --- Italian ---
    ("it", "La risposta corretta è la C.", IT, "C", "stated", "'la risposta corretta è la C'"),
    ("it", "L'opzione A è sbagliata, quindi C.", IT, "C", "stated", "rejection, then 'quindi'"),
    ("it", "La risposta non è A.", IT, None, "unparseable", "Italian negation"),
    ("it", "Metformina", IT, "B", "option_text", "option text alone"),
    # --- German ---
    ("de", "Die richtige Antwort ist C.", DE, "C", "letter", "'Die richtige Antwort ist'"),
    ("de", "Option A ist falsch, daher C.", DE, "C", "stated", "rejection, then 'daher'"),
    ("de", "C ist richtig.", DE, "C", "stated", "letter before the German verdict"),
    ("de", "Die Antwort ist nicht A.", DE, None, "unparseable", "German negation"),
    # --- Portuguese ---
    ("pt", "A resposta correta é a C.", PT, "C", "stated", "lower-case article 'a' is never option A"),
    ("pt", "A alternativa A está errada, portanto C.", PT, "C", "stated", "rejection, then 'portanto'"),
    ("pt", "A resposta não é A.", PT, None, "unparseable", "Portuguese negation"),
    ("pt", "Gabarito: C", PT, "C", "letter", "Brazilian exam key word"),
    # --- Chinese (CMExam) ---
    ("zh", "答案是C", ZH, "C", "letter", "'答案是' touching the letter (no word boundary in Chinese)"),
    ("zh", "答案：Ｃ", ZH, "C", "letter", "full-width colon and full-width letter"),
    ("zh", "正确答案为C。", ZH, "C", "letter", "'正确答案为' and the ideographic full stop"),
    ("zh", "选项A错误，选项B不正确，所以选C。", ZH, "C", "stated", "rejections, then '所以选C'"),
    ("zh", "C是正确答案。", ZH, "C", "stated", "letter before the Chinese verdict"),
    ("zh", "答案不是A。", ZH, None, "unparseable", "'不是' negates"),
    ("zh", "【答案】C", ZH, "C", "letter", "CMExam-style bracketed heading"),
    ("zh", "答案是出血量。", ZH, "C", "option_text", "option text inside Chinese text (no spaces)"),
    ("zh", "答案是c", ZH, "C", "letter", "lower-case letter in Chinese text is a label, not a word"),
    # --- Japanese (IgakuQA) ---
    ("ja", "正解はC", JA, "C", "letter", "'正解は'"),
    ("ja", "正解は（Ｃ）です。", JA, "C", "stated", "full-width brackets and letter"),
    ("ja", "答え：c", JA, "C", "letter", "IgakuQA's own answers are lower-case letters"),
    ("ja", "Aは誤り。Bも誤り。よってC。", JA, "C", "stated", "rejections, then 'よって'"),
    ("ja", "Cが正解です。", JA, "C", "stated", "letter before 'が正解'"),
    ("ja", "Aは正しくない。", JA, None, "unparseable", "'正しくない' rejects (not '正しい')"),
    ("ja", "Aではない。", JA, None, "unparseable", "'ではない' negates after the letter"),
]


@pytest.mark.parametrize(
    ("language", "text", "options", "expected", "method", "case"), ROWS, ids=[f"{r[0]}: {r[5]}" for r in ROWS]
)
def test_language_extraction_table(language, text, options, expected, method, case):
    got = extract_choice(text, options, language)
    assert (got.answer, got.method) == (expected, method), case


def test_english_extraction_ignores_other_languages_phrases():
    """English runs keep the English phrases only: 'la respuesta es' is not read without es."""
    assert extract_choice("La respuesta correcta es la C.", ES).answer is None
    assert extract_choice("La respuesta correcta es la C.", ES, "es").answer == "C"
