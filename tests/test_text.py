"""qa/text.py: the terms that lexical matching (BM25, the prefilter's term share) compares (pure)."""

from __future__ import annotations

import pytest

from qa.text import query_terms, tokenize


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        pytest.param("Ubuntu 22.04 LTS", ["ubuntu", "22.04", "lts"], id="a-version-is-one-term"),
        pytest.param("In 1,200 BC, 3.5 km", ["1200", "bc", "3.5", "km"], id="separators-inside-a-number"),
        pytest.param("It ended in 2002.", ["end", "2002"], id="a-full-stop-after-a-number-is-no-part-of-it"),
        pytest.param("2021-04-22 | 21.04", ["2021", "2021-04-22", "21.04"], id="an-iso-date-is-itself-and-its-year"),
        pytest.param("In 2021-04-220", ["2021", "04", "220"], id="no-date-without-its-end"),
        pytest.param("On October 25th, the 1st", ["octob", "25", "1"], id="an-ordinal-is-its-number"),
        pytest.param("Iran's 570-mile border", ["iran", "570", "mile", "border"], id="possessive-and-hyphen"),
    ],
)
def test_terms_are_stemmed_content_words_and_whole_numbers(text: str, terms: list[str]) -> None:
    assert tokenize(text) == terms


def test_a_version_in_a_question_matches_only_its_own_row() -> None:
    question = set(query_terms("When was Ubuntu 22.04 released?"))
    assert "22.04" in question
    assert "22.04" in tokenize("22.04 LTS | Jammy Jellyfish | 2022-04-21")
    assert not question & set(tokenize("21.04 | Hirsute Hippo | 2021-04-22")) - {"ubuntu", "releas"}
    assert "10" not in tokenize("2.1 | Slink | 1998-07-24 | 2000-10-30"), "Debian 10 is not any date's October"
