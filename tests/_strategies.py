"""Hypothesis strategies shared by test modules: wire-format items (AttributeValues)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def wire_items(*, max_leaves: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """Items of wire values, binary ones (B, BS) included, nested in L and M."""
    scalar = st.one_of(
        st.builds(lambda b: {"B": b}, st.binary(max_size=20)),
        st.builds(lambda bs: {"BS": bs}, st.lists(st.binary(max_size=8), min_size=1, max_size=4)),
        st.builds(lambda s: {"S": s}, st.text(max_size=10)),
        st.builds(lambda n: {"N": str(n)}, st.integers()),
    )
    values = st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
            st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=4), inner, max_size=3)),
        ),
        max_leaves=max_leaves,
    )
    return st.dictionaries(st.sampled_from(["B", "BS", "a", "S", "M"]), values, min_size=1)
