"""Answer-extraction phrases per language: what states, rejects or concludes an answer.

``scoring/extract.py`` reads a letter with the same rules in every language; only these phrase
sets change. Each field is a regex alternation (compiled case-insensitively, on NFKC-normalised
text, so full-width "：" is ":" here). A language's phrases are always *added* to the English
ones, never replace them: models prompted in Spanish often conclude in English.

- ``statement``: introduces the answer ("the answer is", "la respuesta es", "答案是", "正解は");
- ``verdict_after``: after a letter, accepts it ("is the correct answer", "es correcta",
  "是正确答案", "が正解"); each alternative carries its own leading whitespace (none in CJK);
- ``verdict_after_set``: the same for several letters ("are correct", "sont exactes", "正确");
- ``negative_verdict``: after a letter, rejects it ("is wrong", "es incorrecta", "错误", "は誤り");
- ``negation``: before a letter, negates it ("not", "no", "pas", "nicht", "不是"); for
  space-separated languages followed by up to two words, unless a ``contrast`` word ("but",
  "pero", "mais") ends the negation's scope; ``negation_adjacent`` must touch the letter
  (Chinese "不选C");
- ``conclusion``: concludes a chain of reasoning ("so", "por lo tanto", "donc", "所以", "よって");
- ``option_word``: names an option ("option", "opción", "選択肢"), before its letter or number;
- ``and_word``: joins letters of a set ("and", "y", "et", "und", "e", "和", "と");
- ``true_word`` / ``false_word``: a per-option verdict in a list ("A: correct", "A) Vrai", "A 正确");
- ``confidence``: the word before a verbalised confidence ("Confidence: 80%", "Confianza: 80%").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrases:
    statement: str
    verdict_after: str
    verdict_after_set: str
    negative_verdict: str
    negation: str
    negation_adjacent: str
    contrast: str
    conclusion: str
    option_word: str
    and_word: str
    true_word: str
    false_word: str
    confidence: str
    #: Words after which a capital letter is an answer, not the tail of a name ("so B is correct"
    #: vs "Hepatitis B is the correct answer").
    lead_ins: frozenset[str] = frozenset()
    #: Articles allowed between a statement and its letter ("la respuesta es la C"), matched
    #: case-sensitively so an article is never read as an option letter.
    article: str = ""


#: English: the rules extraction has always had (the conformance table pins them).
EN = Phrases(
    statement=(
        r"(?:(?:final|correct|best|most\s+likely|right)\s+)?(?:answer|option|choice)"
        r"(?:\s+(?:is|would\s+be|will\s+be|=))?"
        r"|answer\s*(?:is|:)|i\s+(?:choose|select|pick|would\s+choose|would\s+go\s+with)|go\s+with"
    ),
    verdict_after=(
        r"\s+(?:is|would\s+be|must\s+be)\s+(?:(?:the|my)\s+)?(?:(?:final|correct|right|best|most\s+likely)\s+)*"
        r"(?:answer|option|choice)\b"
        r"|\s+(?:is|would\s+be|must\s+be)\s+(?:correct|right)\b"
    ),
    verdict_after_set=r"\s+(?:are|would\s+be)\s+(?:(?:the|all)\s+)?(?:correct|right|true)\b",
    negative_verdict=(
        r"(?:is|are|was|were|seems|seem|would\s+be|can\s+be|should\s+be|must\s+be)\s+"
        r"(?:not\b|incorrect|wrong|false|unlikely|less\s+likely|inappropriate|ruled\s+out|excluded|eliminated"
        r"|a\s+distractor|distractors)"
        r"|(?:isn't|aren't|wasn't|can't\s+be|cannot\s+be)\b"
    ),
    negation=(
        r"\bnot|n't|\bnever|\bnor|\brather\s+than|\binstead\s+of|\bother\s+than|\bexcept|\bexclud\w*"
        r"|\brul\w*\s+out|\beliminat\w*|\bagainst|\bno"
    ),
    negation_adjacent="",
    contrast=r"but|however|rather|instead|though|yet",
    conclusion=r"\b(?:so|therefore|thus|hence|which\s+leaves|leaving)\b",
    option_word=r"option|choice",
    and_word=r"and",
    true_word=r"correct|true|right|yes",
    false_word=r"incorrect|false|wrong|no",
    confidence=r"confidence",
    lead_ins=frozenset(
        {"so", "thus", "therefore", "hence", "then", "and", "but", "think", "believe", "clearly", "here"}
    ),
)

_LANGS: dict[str, Phrases] = {
    "es": Phrases(
        statement=(
            r"(?:la\s+)?respuesta(?:\s+(?:correcta|final))?\s+(?:es|ser[ií]a|ser[aá])|respuestas?\s*:"
            r"|(?:la\s+)?opci[oó]n\s+correcta\s+es|elijo|escojo|selecciono|me\s+quedo\s+con|opto\s+por"
            r"|las\s+(?:respuestas|opciones)\s+correctas\s+son"
        ),
        verdict_after=(
            r"\s+(?:es|ser[ií]a|debe\s+ser)\s+(?:la\s+)?(?:respuesta|opci[oó]n)\s+correcta"
            r"|\s+(?:es|ser[ií]a)\s+(?:la\s+)?correcta\b|\s+es\s+la\s+respuesta\b"
        ),
        verdict_after_set=r"\s+son\s+(?:las\s+)?(?:correctas|verdaderas)\b",
        negative_verdict=(
            r"(?:es|son|est[aá]n?|ser[ií]a|parece)\s+(?:incorrect[ao]s?|fals[ao]s?|err[oó]ne[ao]s?"
            r"|equivocad[ao]s?|descartad[ao]s?)|no\s+(?:es|son|ser[ií]a)\b"
        ),
        negation=r"\bno|\bnunca|\bni|\ben\s+lugar\s+de|\ben\s+vez\s+de|\bexcepto|\bsalvo|\bdescart\w*|\belimin\w*",
        negation_adjacent="",
        contrast=r"pero|sino|aunque",
        conclusion=r"\b(?:por\s+(?:lo\s+)?tanto|as[ií]\s+que|entonces|por\s+ende)\b",
        option_word=r"opci[oó]n|alternativa|respuesta",
        and_word=r"y|e",
        true_word=r"correcta|verdadera|cierta|s[ií]",
        false_word=r"incorrecta|falsa|no",
        confidence=r"confianza",
        lead_ins=frozenset({"entonces", "pues", "que", "y", "pero", "creo", "luego", "tanto", "la", "el"}),
        article=r"la|el",
    ),
    "fr": Phrases(
        statement=(
            r"(?:la\s+)?(?:bonne\s+)?r[ée]ponse(?:\s+(?:correcte|exacte|finale))?\s+(?:est|serait|sera)"
            r"|r[ée]ponses?\s*:|(?:la\s+)?(?:proposition|option)\s+(?:correcte|exacte)\s+est"
            r"|je\s+(?:choisis|choisirais|s[ée]lectionne|retiens)"
            r"|les\s+(?:bonnes\s+)?r[ée]ponses\s+sont|les\s+propositions\s+(?:exactes|correctes|justes)\s+sont"
        ),
        verdict_after=(
            r"\s+(?:est|serait)\s+(?:la\s+)?(?:bonne\s+r[ée]ponse|r[ée]ponse\s+(?:correcte|exacte)"
            r"|proposition\s+(?:correcte|exacte))"
            r"|\s+(?:est|serait)\s+(?:correcte|exacte|juste|vraie)\b"
        ),
        verdict_after_set=r"\s+sont\s+(?:les\s+)?(?:correctes|exactes|justes|vraies|bonnes\s+r[ée]ponses)\b",
        negative_verdict=(
            r"(?:est|sont|serait|semble)\s+(?:fausses?|incorrecte?s?|erron[ée]e?s?|inexacte?s?|exclue?s?"
            r"|[ée]limin[ée]e?s?)|(?:n'est|ne\s+sont|n'[ée]tait)\s+pas"
        ),
        negation=r"\bpas|\bnon|\bni|\bjamais|\bplut[oô]t\s+que|\bau\s+lieu\s+de|\bsauf|\bexcept\w*|\b[ée]limin\w*|\b[ée]cart\w*",
        negation_adjacent="",
        contrast=r"mais|cependant|pourtant",
        conclusion=r"\b(?:donc|ainsi|par\s+cons[ée]quent|d'o[uù])\b",
        option_word=r"option|proposition|r[ée]ponse",
        and_word=r"et",
        true_word=r"vraie?|exacte|correcte|juste|oui",
        false_word=r"fausse?|inexacte|incorrecte|non",
        confidence=r"confiance",
        lead_ins=frozenset({"donc", "ainsi", "alors", "que", "et", "mais", "pense", "la", "le", "l"}),
        article=r"la|le|l'",
    ),
    "it": Phrases(
        statement=(
            r"(?:la\s+)?risposta(?:\s+(?:corretta|giusta|esatta|finale))?\s+(?:[eè]|sarebbe|sar[aà])"
            r"|risposte?\s*:|(?:l')?opzione\s+(?:corretta|giusta)\s+[eè]|scelgo|seleziono"
            r"|le\s+risposte\s+(?:corrette\s+|giuste\s+)?sono"
        ),
        verdict_after=(
            r"\s+(?:[eè]|sarebbe)\s+(?:la\s+)?(?:risposta|opzione)\s+(?:corretta|giusta|esatta)"
            r"|\s+(?:[eè]|sarebbe)\s+(?:corretta|giusta|esatta)\b"
        ),
        verdict_after_set=r"\s+sono\s+(?:le\s+)?(?:corrette|giuste|esatte|vere)\b",
        negative_verdict=(
            r"(?:[eè]|sono|sarebbe|sembra)\s+(?:sbagliat[aoie]|errat[aoie]|fals[aoie]|scorrett[aoie]"
            r"|esclus[aoie])|non\s+(?:[eè]|sono|sarebbe)\b"
        ),
        negation=r"\bnon|\bn[eé]|\bmai|\binvece\s+di|\banzich[eé]|\btranne|\beccetto|\bescl\w*|\belimin\w*",
        negation_adjacent="",
        contrast=r"ma|per[oò]|bens[iì]|tuttavia",
        conclusion=r"\b(?:quindi|dunque|pertanto|perci[oò])\b",
        option_word=r"opzione|alternativa|risposta",
        and_word=r"e|ed",
        true_word=r"corretta|vera|giusta|esatta|s[iì]",
        false_word=r"sbagliata|errata|falsa|no",
        confidence=r"confidenza|fiducia",
        lead_ins=frozenset({"quindi", "dunque", "allora", "che", "e", "ma", "penso", "pertanto", "la", "l"}),
        article=r"la|l'",
    ),
    "de": Phrases(
        statement=(
            r"(?:die\s+)?(?:richtige\s+|korrekte\s+)?antwort\s+(?:ist|lautet|w[äa]re)|antwort(?:en)?\s*:"
            r"|(?:die\s+)?(?:richtige|korrekte)\s+(?:option|l[öo]sung)\s+ist|l[öo]sung\s*:|ich\s+w[äa]hle"
            r"|die\s+(?:richtigen\s+)?antworten\s+sind"
        ),
        verdict_after=(
            r"\s+(?:ist|w[äa]re)\s+(?:die\s+)?(?:richtige|korrekte)\s+(?:antwort|option|l[öo]sung)"
            r"|\s+(?:ist|w[äa]re)\s+(?:richtig|korrekt)\b"
        ),
        verdict_after_set=r"\s+sind\s+(?:richtig|korrekt|zutreffend)\b",
        negative_verdict=(
            r"(?:ist|sind|w[äa]re|scheint)\s+(?:falsch|nicht|unrichtig|inkorrekt|ausgeschlossen)"
        ),
        negation=r"\bnicht|\bkein\w*|\bnie|\bstatt|\banstatt|\bau[ßs]er|\bausgenommen|\bausschlie\w*",
        negation_adjacent="",
        contrast=r"aber|sondern|jedoch",
        conclusion=r"\b(?:also|daher|somit|deshalb|folglich)\b",
        option_word=r"option|antwort|auswahl",
        and_word=r"und",
        true_word=r"richtig|wahr|korrekt|ja",
        false_word=r"falsch|unrichtig|nein",
        confidence=r"konfidenz|sicherheit",
        lead_ins=frozenset(
            {"also", "daher", "somit", "dass", "und", "aber", "denke", "glaube", "die", "der"}
        ),
        article=r"die|der",
    ),
    "pt": Phrases(
        statement=(
            r"(?:a\s+)?resposta(?:\s+(?:correta|final))?\s+(?:[ée]|seria|ser[aá])|respostas?\s*:"
            r"|(?:a\s+)?(?:alternativa|op[cç][aã]o)\s+correta\s+[ée]|escolho|seleciono|gabarito\s*:"
            r"|as\s+(?:respostas|alternativas)\s+corretas\s+s[aã]o"
        ),
        verdict_after=(
            r"\s+(?:[ée]|seria)\s+(?:a\s+)?(?:resposta|alternativa|op[cç][aã]o)\s+corret[ao]"
            r"|\s+(?:[ée]|est[aá])\s+corret[ao]\b"
        ),
        verdict_after_set=r"\s+(?:s[aã]o|est[aã]o)\s+(?:as\s+)?(?:corretas|verdadeiras)\b",
        negative_verdict=(
            r"(?:[ée]|s[aã]o|est[aá]|est[aã]o|seria)\s+(?:incorret[ao]s?|fals[ao]s?|errad[ao]s?"
            r"|descartad[ao]s?)|n[aã]o\s+(?:[ée]|s[aã]o|est[aá])\b"
        ),
        negation=r"\bn[aã]o|\bnunca|\bnem|\bem\s+vez\s+de|\bao\s+inv[ée]s\s+de|\bexceto|\bexclu\w*|\belimin\w*|\bdescart\w*",
        negation_adjacent="",
        contrast=r"mas|por[ée]m|contudo",
        conclusion=r"\b(?:portanto|ent[aã]o|logo|assim)\b",
        option_word=r"alternativa|op[cç][aã]o|resposta",
        and_word=r"e",
        true_word=r"correta|verdadeira|certa|sim",
        false_word=r"incorreta|falsa|errada|n[aã]o",
        confidence=r"confian[cç]a",
        lead_ins=frozenset({"portanto", "então", "logo", "que", "e", "mas", "acho", "assim", "a", "o"}),
        article=r"a|o",
    ),
    "zh": Phrases(
        statement=(
            r"(?:正确|最佳|最终|标准)?答案(?:是|为|应为|应该是|应是|:)|正确(?:的)?选项(?:是|为|:)"
            r"|(?:应|故|应当|应该|我|所以|因此|因而|故而)选(?:择)?|选择|\[答案\]\s*:?"
        ),
        verdict_after=r"\s*(?:是|为)(?:正确|最佳)(?:的)?(?:答案|选项)|\s*(?:是正确的|正确|对)(?![的]?(?:吗|么))",
        verdict_after_set=r"\s*(?:都|均)?(?:是正确的|正确|对)",
        negative_verdict=r"\s*(?:是)?(?:错误|不正确|不对|错的|不是正确|不符合|可排除|排除)",
        negation=r"",
        negation_adjacent=r"(?:不是|不选|不应选|排除|而非|并非|除了|而不是|不)\s*$",
        contrast=r"",
        conclusion=r"(?:所以|因此|故|综上所述|综上)",
        option_word=r"选项",
        and_word=r"和|及|与|以及",
        true_word=r"正确|对|√",
        false_word=r"错误|不正确|错|×",
        confidence=r"置信度|信心",
    ),
    "ja": Phrases(
        statement=(r"(?:正解|答え|解答|回答|正答)(?:は|:)|(?:正しい|適切な)(?:選択肢|もの|答え)は|選択肢は"),
        verdict_after=r"\s*(?:が|は)(?:正解|正しい(?!く)|適切(?!で(?:は)?な))|\s*が答え",
        verdict_after_set=r"\s*(?:が|は)(?:正解|正しい(?!く)|適切(?!で(?:は)?な))",
        negative_verdict=(
            r"\s*(?:は|が)?(?:誤り|誤っ|間違い|間違っ|不正解|正しくな|不適切|適切ではな|適切でな)|\s*ではな"
        ),
        negation=r"",
        negation_adjacent=r"",
        contrast=r"",
        conclusion=r"(?:よって|したがって|従って|ゆえに|以上より|以上から)",
        option_word=r"選択肢",
        and_word=r"と|および|及び",
        true_word=r"正しい|正解|○",
        false_word=r"誤り|不正解|×",
        confidence=r"確信度|自信",
    ),
}


def for_language(language: str) -> list[Phrases]:
    """English first, then the language's own phrases (English alone for "en" or an unknown code)."""
    own = _LANGS.get(language)
    return [EN] if own is None else [EN, own]


def languages() -> list[str]:
    return ["en", *_LANGS]


def confidence_words() -> str:
    """Every language's word before a verbalised confidence, as one alternation."""
    return "|".join([EN.confidence, *(p.confidence for p in _LANGS.values())])
