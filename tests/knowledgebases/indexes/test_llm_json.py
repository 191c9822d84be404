"""Reading JSON out of chat answers: fences, reasoning blocks, prose and truncation."""

import pytest

from knowledgebases.llm_json import AnswerFormatError, parse_json_answer, strip_reasoning


@pytest.mark.parametrize(
    "answer",
    [
        '{"entities": [{"name": "Ada"}]}',
        '```json\n{"entities": [{"name": "Ada"}]}\n```',
        '<think>The text names Ada.\n{"draft": 1}</think>\n{"entities": [{"name": "Ada"}]}',
        'Here is the result:\n{"entities": [{"name": "Ada"}]}\nHope it helps.',
        '{"entities": [{"name": "Ada"}, {"name": "Bab',
    ],
    ids=["plain", "fenced", "reasoning", "prose", "truncated"],
)
def test_answer_forms_parse(answer):
    value = parse_json_answer(answer)

    assert value["entities"][0] == {"name": "Ada"}


@pytest.mark.parametrize("answer", ["", "I cannot help with that.", "<think>still thinking", "[1, 2]", "{}"])
def test_unusable_answers_are_rejected(answer):
    with pytest.raises(AnswerFormatError):
        parse_json_answer(answer)


def test_list_expected():
    assert parse_json_answer("```\n[1, 2]\n```", expect=list) == [1, 2]


def test_strip_reasoning_keeps_answer():
    assert strip_reasoning("<think>a\nb</think>  Final answer.") == "Final answer."
    assert strip_reasoning("<THINKING>x</THINKING>y") == "y"
