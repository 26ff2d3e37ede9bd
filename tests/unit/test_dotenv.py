"""The .env dialect: what paxx writes, paxx (and Compose) read back unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paxx_env import dotenv
from paxx_env.errors import ConfigError

# Any text without NUL (which no environment variable can hold).
values = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


@given(values)
def test_format_then_parse_round_trips_any_value(value: str) -> None:
    text = dotenv.format_line("KEY", value) + "\n"
    assert dotenv.values_of(dotenv.parse(text)) == {"KEY": value}


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True), values, max_size=8))
def test_many_lines_round_trip_and_later_lines_see_earlier_ones(pairs: dict[str, str]) -> None:
    text = "".join(dotenv.format_line(k, v) + "\n" for k, v in pairs.items())
    assert dotenv.values_of(dotenv.parse(text)) == pairs


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("abc123", "abc123"),
        ("redis://:p%40ss@127.0.0.1:6379/0", "redis://:p%40ss@127.0.0.1:6379/0"),
        ("a$b", "'a$b'"),
        ("has space", "'has space'"),
        ("x#y", "'x#y'"),
        ('say "hi"', "'say \"hi\"'"),
        ("it's", '"it\'s"'),
        ("back\\slash", '"back\\\\slash"'),
        ("it's $HOME", '"it\'s \\$HOME"'),
        ("two\nlines", '"two\\nlines"'),
        ("", ""),
    ],
)
def test_quoting_is_the_documented_one(value: str, written: str) -> None:
    assert dotenv.format_value(value) == written


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("K=plain # comment", "plain"),
        ("K=no#comment", "no#comment"),
        ("export K=v", "v"),
        ("K = spaced", "spaced"),
        ("K='single $NOT #x'", "single $NOT #x"),
        ('K="double\\tTab"', "double\tTab"),
        ("K='a\\'b'", "a'b"),
        ("K=$$dollar", "$dollar"),
    ],
)
def test_parses_compose_dialect(line: str, value: str) -> None:
    assert dotenv.values_of(dotenv.parse(line + "\n")) == {"K": value}


def test_interpolates_earlier_values_like_compose() -> None:
    text = "A=one\nB=${A}-two\nC=\"$A\"\nD='$A'\nE=${MISSING:-dflt}\n"
    assert dotenv.values_of(dotenv.parse(text)) == {
        "A": "one",
        "B": "one-two",
        "C": "one",
        "D": "$A",
        "E": "dflt",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GOOD=1\nthis is not an assignment\n", ".env line 2: cannot parse: expected KEY=value"),
        (
            "SECRET='unterminated\n",
            ".env line 1 (SECRET): cannot parse: the single quote is not closed",
        ),
        ('K="open\n', ".env line 1 (K): cannot parse: the double quote is not closed"),
        ("K='v' trailing\n", ".env line 1 (K): cannot parse: text after the closing quote"),
    ],
)
def test_bad_lines_are_named_without_showing_their_value(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        dotenv.parse(text)
    assert caught.value.message == message
    assert "unterminated" not in caught.value.message
