"""Our own YAML nesting check: exact on any document, whatever the parser underneath."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc.errors import SpecError
from cdisc.yamlsafe import MAX_DEPTH, flow_nesting_depth, load_yaml

scalars = st.one_of(st.integers(), st.booleans(), st.none(),
                    st.text(alphabet="ab[]{},:#'\"- |>\n", max_size=8))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text("abc", min_size=1, max_size=3), inner,
                                                 max_size=3)), max_leaves=12)


def nesting(value: object) -> int:
    """Depth of nested lists/dicts, computed on the data, not on the text."""
    if isinstance(value, list):
        return 1 + max(map(nesting, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(nesting, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(documents)
def test_flow_depth_equals_the_data_nesting(doc: object) -> None:
    text = yaml.safe_dump({"k": doc}, default_flow_style=True)  # every collection in flow style
    depth = nesting({"k": doc})
    assert flow_nesting_depth(text, depth) == (0, 0)
    assert flow_nesting_depth(text, depth - 1)[0] == depth


@settings(max_examples=200, deadline=None)
@given(documents)
def test_block_style_has_no_flow_nesting_beyond_empty_collections(doc: object) -> None:
    text = yaml.safe_dump({"k": doc}, default_flow_style=False)
    assert flow_nesting_depth(text, 1) == (0, 0)  # only empty [] / {} are written in flow style


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("a: [[1]]\n", 2, (0, 0)),
    ("a: [[1]]\n", 1, (2, 1)),
    ("a: b[1][2][3]\n", 0, (0, 0)),            # brackets inside a block plain scalar
    ("k:\n- - :- [\n- []\n", 1, (0, 0)),      # "- " inside a plain scalar starts nothing
    ("k:\n- a - [1]\n", 0, (0, 0)),
    ("a: '[[['\nb: \"[[\\\"[\"\n", 0, (0, 0)),  # inside quoted scalars
    ("# [[[\na: 1 # {{{\n", 0, (0, 0)),         # inside comments
    ("a: |\n  [[[\n  {{{\nb: [x]\n", 0, (1, 4)),  # a literal block is skipped; b is line 4
    ("a: >-\n    [[\nb:\n  - {c: [d]}\n", 1, (2, 4)),
    ("- - [ [\n  ] ]\n", 1, (2, 1)),
])
def test_flow_depth_golden(text: str, limit: int, expected: tuple[int, int]) -> None:
    assert flow_nesting_depth(text, limit) == expected


def test_nesting_bomb_is_our_error_naming_file_and_line(tmp_path: Path) -> None:
    spec = tmp_path / "EX.yaml"
    spec.write_text("domain: EX\nrecords: " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(SpecError) as err:
        load_yaml(spec)
    assert err.value.file == str(spec)
    assert err.value.row == 2
    assert str(MAX_DEPTH) in str(err.value)
