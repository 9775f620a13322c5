"""protocol.json_text, the JSON the server writes (stored fields, pull pages, push answers):
orjson where it can, the standard library where it cannot, and either way text that reads
back as the value it was made from."""

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sync import protocol as P

_texts = st.text(st.characters(exclude_categories=()))  # lone surrogates too
_scalars = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | _texts)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(_texts, inner, max_size=4), max_leaves=20)


def _same(a, b) -> bool:
    """Equal, and of the same JSON kind all the way down (an integer stays an integer)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@settings(max_examples=300, deadline=None)
@given(_values)
def test_any_json_value_reads_back_as_itself(value):
    """Lone surrogates and integers past 64 bits included, which orjson refuses."""
    text = P.json_text(value)
    assert _same(json.loads(text), value)


def test_the_text_is_compact_with_characters_beyond_ascii_as_themselves():
    value = {"place": "Café – 5ª Av", "lat": 32.22, "count": 3, "gone": None, "ok": True}
    assert P.json_text(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_what_orjson_refuses_is_written_as_the_standard_library_writes_it():
    for value in ({"note": "before \ud800 after"}, {"n": 2**70}, {1: "a non-text key"}):
        assert P.json_text(value) == json.dumps(value, ensure_ascii=False,
                                                separators=(",", ":"))
