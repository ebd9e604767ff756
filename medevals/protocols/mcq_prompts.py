"""The multiple-choice prompt wording, per language: the one place the MCQ protocol's text lives.

``VERSION`` names this table; a change of wording in any language is a new version (and the
manifest records the version and every string a run used, see ``MCQProtocol.templates``). The
English strings are those medevals has always sent, so English runs and their cached responses
are unchanged. Each language has the same keys:

- ``intro`` + ``answer_one``: a single-answer item; ``intro`` + ``set_note`` + ``answer_set``: an
  item that admits several correct options (the count unknown to the model, as in FrenchMedMCQA
  and CMExam); ``count_note`` replaces ``set_note`` when the item itself states how many ({n};
  IgakuQA's "2つ選べ");
  ``intro_number`` + ``answer_number``: a numeric-entry item (no options);
- ``cot_one`` / ``cot_set`` / ``cot_number``: chain of thought, ending with a line that the
  extraction phrases of the same language read;
- ``verbal``: verbalised confidence ("Confidence: N%"; the word is read in every language);
- ``options_only_intro`` + ``options_only_one`` and ``stem_only_intro``: contamination probes;
- ``completion_probe``, ``completion_header`` (base models), ``base_cot_cue``;
- labels: ``context``, ``question``, ``options``, ``answer`` (each with its separator), ``hidden``,
  and ``example_answer``, the assistant turn of a few-shot example.

``sep`` joins sentences (a space, nothing for Chinese and Japanese).
"""

from __future__ import annotations

VERSION = "mcq-prompts@v2"
"""v1: English only (the strings below under "en"); v2 adds answer sets, numeric entry and
es, fr, it, de, pt, zh, ja. The English single-answer strings are identical in both."""

PROMPTS: dict[str, dict[str, str]] = {
    "en": {
        "sep": " ",
        "intro": "The following is a multiple-choice question about medicine.",
        "answer_one": "Answer with the letter of the correct option only.",
        "set_note": "One or more options may be correct.",
        "count_note": "Exactly {n} options are correct.",
        "answer_set": 'Answer with the letters of all correct options only, separated by commas (e.g. "A, C").',
        "intro_number": "The following is a question about medicine that is answered with a number.",
        "answer_number": "Answer with the number only.",
        "cot_one": 'Think step by step, then end your reply with a final line "The answer is (X)" where X is '
        "the letter of the correct option.",
        "cot_set": 'Think step by step, then end your reply with a final line "The answer is X, Y" listing '
        "the letters of all correct options.",
        "cot_number": 'Think step by step, then end your reply with a final line "The answer is N" where N is '
        "the number.",
        "verbal": 'After the answer, add a last line "Confidence: N%" where N is your probability (0-100) that '
        "the answer is correct.",
        "options_only_intro": "The question of the following multiple-choice item is hidden.",
        "options_only_one": "Answer with the letter of the option most likely to be correct.",
        "stem_only_intro": "The options of the following multiple-choice question are hidden; only their "
        "letters are given.",
        "completion_probe": "Continue the following text exactly as it appears in its original source. Reply "
        "with the continuation only.",
        "completion_header": "The following are multiple-choice questions (with answers) about medicine.\n\n",
        "base_cot_cue": " Let's think step by step.",
        "context": "Context: ",
        "question": "Question: ",
        "options": "Options: ",
        "answer": "Answer:",
        "hidden": "(hidden)",
        "example_answer": "The answer is ({answer}).",
    },
    "es": {
        "sep": " ",
        "intro": "La siguiente es una pregunta de opción múltiple sobre medicina.",
        "answer_one": "Responde solo con la letra de la opción correcta.",
        "set_note": "Puede haber una o varias opciones correctas.",
        "count_note": "Hay exactamente {n} opciones correctas.",
        "answer_set": 'Responde solo con las letras de todas las opciones correctas, separadas por comas (p. ej., "A, C").',
        "intro_number": "La siguiente es una pregunta sobre medicina que se responde con un número.",
        "answer_number": "Responde solo con el número.",
        "cot_one": 'Piensa paso a paso y termina tu respuesta con una última línea "La respuesta es (X)", donde '
        "X es la letra de la opción correcta.",
        "cot_set": 'Piensa paso a paso y termina tu respuesta con una última línea "La respuesta es X, Y" con '
        "las letras de todas las opciones correctas.",
        "cot_number": 'Piensa paso a paso y termina tu respuesta con una última línea "La respuesta es N", donde '
        "N es el número.",
        "verbal": 'Después de la respuesta, añade una última línea "Confianza: N%", donde N es tu probabilidad '
        "(0-100) de que la respuesta sea correcta.",
        "options_only_intro": "La pregunta del siguiente ítem de opción múltiple está oculta.",
        "options_only_one": "Responde con la letra de la opción con más probabilidad de ser correcta.",
        "stem_only_intro": "Las opciones de la siguiente pregunta de opción múltiple están ocultas; solo se "
        "dan sus letras.",
        "completion_probe": "Continúa el siguiente texto exactamente como aparece en su fuente original. "
        "Responde solo con la continuación.",
        "completion_header": "Las siguientes son preguntas de opción múltiple (con respuestas) sobre medicina.\n\n",
        "base_cot_cue": " Pensemos paso a paso.",
        "context": "Contexto: ",
        "question": "Pregunta: ",
        "options": "Opciones: ",
        "answer": "Respuesta:",
        "hidden": "(oculta)",
        "example_answer": "La respuesta es ({answer}).",
    },
    "fr": {
        "sep": " ",
        "intro": "Voici une question à choix multiples de médecine.",
        "answer_one": "Répondez uniquement par la lettre de la bonne réponse.",
        "set_note": "Une ou plusieurs propositions peuvent être exactes.",
        "count_note": "Exactement {n} propositions sont exactes.",
        "answer_set": "Répondez uniquement par les lettres de toutes les propositions exactes, séparées par des virgules (par ex. « A, C »).",
        "intro_number": "Voici une question de médecine dont la réponse est un nombre.",
        "answer_number": "Répondez uniquement par le nombre.",
        "cot_one": "Raisonnez étape par étape, puis terminez votre réponse par une dernière ligne « La réponse "
        "est (X) », où X est la lettre de la bonne réponse.",
        "cot_set": "Raisonnez étape par étape, puis terminez votre réponse par une dernière ligne « La réponse "
        "est X, Y » donnant les lettres de toutes les propositions exactes.",
        "cot_number": "Raisonnez étape par étape, puis terminez votre réponse par une dernière ligne « La "
        "réponse est N », où N est le nombre.",
        "verbal": "Après la réponse, ajoutez une dernière ligne « Confiance : N % », où N est votre probabilité "
        "(0-100) que la réponse soit exacte.",
        "options_only_intro": "La question de l'item à choix multiples suivant est masquée.",
        "options_only_one": "Répondez par la lettre de la proposition la plus probablement exacte.",
        "stem_only_intro": "Les propositions de la question à choix multiples suivante sont masquées ; seules "
        "leurs lettres sont données.",
        "completion_probe": "Poursuivez le texte suivant exactement tel qu'il figure dans sa source d'origine. "
        "Répondez uniquement par la suite.",
        "completion_header": "Voici des questions à choix multiples (avec réponses) de médecine.\n\n",
        "base_cot_cue": " Raisonnons étape par étape.",
        "context": "Contexte : ",
        "question": "Question : ",
        "options": "Propositions : ",
        "answer": "Réponse :",
        "hidden": "(masquée)",
        "example_answer": "La réponse est ({answer}).",
    },
    "it": {
        "sep": " ",
        "intro": "Quella che segue è una domanda a scelta multipla di medicina.",
        "answer_one": "Rispondi solo con la lettera dell'opzione corretta.",
        "set_note": "Una o più opzioni possono essere corrette.",
        "count_note": "Esattamente {n} opzioni sono corrette.",
        "answer_set": 'Rispondi solo con le lettere di tutte le opzioni corrette, separate da virgole (ad es. "A, C").',
        "intro_number": "Quella che segue è una domanda di medicina a cui si risponde con un numero.",
        "answer_number": "Rispondi solo con il numero.",
        "cot_one": 'Ragiona passo dopo passo, poi termina la risposta con un\'ultima riga "La risposta è (X)", '
        "dove X è la lettera dell'opzione corretta.",
        "cot_set": 'Ragiona passo dopo passo, poi termina la risposta con un\'ultima riga "La risposta è X, Y" '
        "con le lettere di tutte le opzioni corrette.",
        "cot_number": 'Ragiona passo dopo passo, poi termina la risposta con un\'ultima riga "La risposta è N", '
        "dove N è il numero.",
        "verbal": 'Dopo la risposta, aggiungi un\'ultima riga "Confidenza: N%", dove N è la tua probabilità '
        "(0-100) che la risposta sia corretta.",
        "options_only_intro": "La domanda del seguente quesito a scelta multipla è nascosta.",
        "options_only_one": "Rispondi con la lettera dell'opzione che ha più probabilità di essere corretta.",
        "stem_only_intro": "Le opzioni della seguente domanda a scelta multipla sono nascoste; sono indicate "
        "solo le loro lettere.",
        "completion_probe": "Continua il testo seguente esattamente come compare nella sua fonte originale. "
        "Rispondi solo con la continuazione.",
        "completion_header": "Le seguenti sono domande a scelta multipla (con risposte) di medicina.\n\n",
        "base_cot_cue": " Ragioniamo passo dopo passo.",
        "context": "Contesto: ",
        "question": "Domanda: ",
        "options": "Opzioni: ",
        "answer": "Risposta:",
        "hidden": "(nascosta)",
        "example_answer": "La risposta è ({answer}).",
    },
    "de": {
        "sep": " ",
        "intro": "Es folgt eine Multiple-Choice-Frage zur Medizin.",
        "answer_one": "Antworte nur mit dem Buchstaben der richtigen Option.",
        "set_note": "Eine oder mehrere Optionen können richtig sein.",
        "count_note": "Genau {n} Optionen sind richtig.",
        "answer_set": 'Antworte nur mit den Buchstaben aller richtigen Optionen, durch Kommas getrennt (z. B. "A, C").',
        "intro_number": "Es folgt eine Frage zur Medizin, die mit einer Zahl beantwortet wird.",
        "answer_number": "Antworte nur mit der Zahl.",
        "cot_one": 'Denke Schritt für Schritt nach und beende deine Antwort mit einer letzten Zeile "Die Antwort '
        'ist (X)", wobei X der Buchstabe der richtigen Option ist.',
        "cot_set": 'Denke Schritt für Schritt nach und beende deine Antwort mit einer letzten Zeile "Die Antwort '
        'ist X, Y" mit den Buchstaben aller richtigen Optionen.',
        "cot_number": 'Denke Schritt für Schritt nach und beende deine Antwort mit einer letzten Zeile "Die '
        'Antwort ist N", wobei N die Zahl ist.',
        "verbal": 'Füge nach der Antwort eine letzte Zeile "Konfidenz: N%" hinzu, wobei N deine '
        "Wahrscheinlichkeit (0-100) ist, dass die Antwort richtig ist.",
        "options_only_intro": "Die Frage der folgenden Multiple-Choice-Aufgabe ist verborgen.",
        "options_only_one": "Antworte mit dem Buchstaben der Option, die am wahrscheinlichsten richtig ist.",
        "stem_only_intro": "Die Optionen der folgenden Multiple-Choice-Frage sind verborgen; nur ihre Buchstaben "
        "sind angegeben.",
        "completion_probe": "Setze den folgenden Text genau so fort, wie er in seiner Originalquelle steht. "
        "Antworte nur mit der Fortsetzung.",
        "completion_header": "Es folgen Multiple-Choice-Fragen (mit Antworten) zur Medizin.\n\n",
        "base_cot_cue": " Denken wir Schritt für Schritt.",
        "context": "Kontext: ",
        "question": "Frage: ",
        "options": "Optionen: ",
        "answer": "Antwort:",
        "hidden": "(verborgen)",
        "example_answer": "Die Antwort ist ({answer}).",
    },
    "pt": {
        "sep": " ",
        "intro": "A seguir há uma questão de múltipla escolha sobre medicina.",
        "answer_one": "Responda apenas com a letra da alternativa correta.",
        "set_note": "Uma ou mais alternativas podem estar corretas.",
        "count_note": "Exatamente {n} alternativas estão corretas.",
        "answer_set": 'Responda apenas com as letras de todas as alternativas corretas, separadas por vírgulas (por exemplo, "A, C").',
        "intro_number": "A seguir há uma questão sobre medicina cuja resposta é um número.",
        "answer_number": "Responda apenas com o número.",
        "cot_one": 'Pense passo a passo e termine sua resposta com uma última linha "A resposta é (X)", em que X '
        "é a letra da alternativa correta.",
        "cot_set": 'Pense passo a passo e termine sua resposta com uma última linha "A resposta é X, Y" com as '
        "letras de todas as alternativas corretas.",
        "cot_number": 'Pense passo a passo e termine sua resposta com uma última linha "A resposta é N", em que '
        "N é o número.",
        "verbal": 'Depois da resposta, acrescente uma última linha "Confiança: N%", em que N é a sua '
        "probabilidade (0-100) de a resposta estar correta.",
        "options_only_intro": "O enunciado da seguinte questão de múltipla escolha está oculto.",
        "options_only_one": "Responda com a letra da alternativa com maior probabilidade de estar correta.",
        "stem_only_intro": "As alternativas da seguinte questão de múltipla escolha estão ocultas; apenas as "
        "suas letras são dadas.",
        "completion_probe": "Continue o texto a seguir exatamente como aparece na sua fonte original. Responda "
        "apenas com a continuação.",
        "completion_header": "A seguir há questões de múltipla escolha (com respostas) sobre medicina.\n\n",
        "base_cot_cue": " Vamos pensar passo a passo.",
        "context": "Contexto: ",
        "question": "Pergunta: ",
        "options": "Alternativas: ",
        "answer": "Resposta:",
        "hidden": "(oculta)",
        "example_answer": "A resposta é ({answer}).",
    },
    "zh": {
        "sep": "",
        "intro": "以下是一道关于医学的选择题。",
        "answer_one": "请只回答正确选项的字母。",
        "set_note": "正确选项可能有一个或多个。",
        "count_note": "正确选项恰好有{n}个。",
        "answer_set": "请只回答所有正确选项的字母，用逗号分隔（例如“A, C”）。",
        "intro_number": "以下是一道关于医学的题目，答案是一个数字。",
        "answer_number": "请只回答这个数字。",
        "cot_one": "请逐步思考，然后在回答的最后一行写“答案是(X)”，其中X是正确选项的字母。",
        "cot_set": "请逐步思考，然后在回答的最后一行写“答案是X, Y”，列出所有正确选项的字母。",
        "cot_number": "请逐步思考，然后在回答的最后一行写“答案是N”，其中N是该数字。",
        "verbal": "在答案之后，另起最后一行写“置信度：N%”，其中N是你认为答案正确的概率（0-100）。",
        "options_only_intro": "下面这道选择题的题干已被隐藏。",
        "options_only_one": "请回答最可能正确的选项的字母。",
        "stem_only_intro": "下面这道选择题的选项已被隐藏，只给出选项字母。",
        "completion_probe": "请按原始出处中的原文逐字续写下面的文本。只回答续写部分。",
        "completion_header": "以下是关于医学的选择题（附答案）。\n\n",
        "base_cot_cue": " 让我们一步一步地思考。",
        "context": "背景：",
        "question": "问题：",
        "options": "选项：",
        "answer": "答案：",
        "hidden": "（已隐藏）",
        "example_answer": "答案是({answer})。",
    },
    "ja": {
        "sep": "",
        "intro": "以下は医学に関する多肢選択問題です。",
        "answer_one": "正しい選択肢の記号だけを答えてください。",
        "set_note": "正しい選択肢は1つとは限りません。",
        "count_note": "正しい選択肢はちょうど{n}つです。",
        "answer_set": "正しい選択肢の記号をすべて、カンマ区切りで答えてください（例：「A, C」）。",
        "intro_number": "以下は数値で答える医学の問題です。",
        "answer_number": "数値だけを答えてください。",
        "cot_one": "段階的に考え、最後の行に「答えは(X)」と書いてください。Xは正しい選択肢の記号です。",
        "cot_set": "段階的に考え、最後の行に「答えは X, Y」の形で正しい選択肢の記号をすべて書いてください。",
        "cot_number": "段階的に考え、最後の行に「答えは N」と書いてください。Nはその数値です。",
        "verbal": "答えの後に、最後の行として「確信度：N%」を加えてください。Nは答えが正しい確率（0-100）です。",
        "options_only_intro": "次の多肢選択問題の問題文は伏せられています。",
        "options_only_one": "最も正しい可能性が高い選択肢の記号を答えてください。",
        "stem_only_intro": "次の多肢選択問題の選択肢は伏せられており、記号だけが示されています。",
        "completion_probe": "次の文章を、元の出典に書かれているとおりに続けてください。続きの部分だけを答えてください。",
        "completion_header": "以下は医学に関する多肢選択問題（解答付き）です。\n\n",
        "base_cot_cue": " 段階的に考えてみましょう。",
        "context": "背景：",
        "question": "問題：",
        "options": "選択肢：",
        "answer": "答え：",
        "hidden": "（非表示）",
        "example_answer": "答えは({answer})です。",
    },
}


def prompts(language: str) -> dict[str, str]:
    return PROMPTS[language]


def join(language: str, *sentences: str) -> str:
    """Sentences of one instruction, joined as the language writes them."""
    return PROMPTS[language]["sep"].join(s for s in sentences if s)
