"""The fast path of canonical_json writes the same bytes as the rfc8785 library (RFC 8785)."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from dosetrail import canonical_json

_ascii = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | _ascii,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ascii, inner, max_size=5),
    max_leaves=25,
)


@given(_values)
def test_fast_path_equals_rfc8785(value: Any) -> None:
    assert canonical_json.dumps(value) == rfc8785.dumps(value)


@given(
    st.dictionaries(
        st.text(max_size=5), st.text(max_size=5) | st.floats(allow_nan=False, allow_infinity=False)
    )
)
def test_everything_else_is_rfc8785(value: dict[str, Any]) -> None:
    assert canonical_json.dumps(value) == rfc8785.dumps(value)
