"""A native interpreter of the CDISC CORE rule catalogue (and our own rules in the same form).

Pieces and their contracts:
- catalogue.py: loads the vendored rules (validation/rules/) into `Rule` objects.
- library.py: the standards' metadata the rules need (SDTMIG 3.4 datasets and variables,
  SDTM model v2.0 classes and variables, the full CDISC CT package), read from specs/.
- operators.py: OPERATORS, name -> function(frame, check) -> boolean Series aligned with
  frame.index (True where the condition holds, i.e. where the record is reported when it is
  the whole condition). `check` is a `Check` (below). Missing text is "" and missing numbers
  are NaN in every frame.
- operations.py: OPERATIONS, name -> function(ctx, params) -> a scalar, a list (broadcast to
  every row) or a Series aligned with ctx.frame.index. The engine stores the result in the
  column named by the operation's id ("$min_ds_dsstdtc") before the conditions run.
- engine.py: scope, frames per rule type, --VAR substitution, match_datasets joins, the
  condition tree, findings, skipped / not executable reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    """One leaf of a rule's condition tree, after "--" was replaced by the domain prefix.

    target: the column the operator judges ("AESTDTC", "$max_date", "variable_name").
    comparator: the literal or column name it is compared with (None when the operator
        takes none). A string comparator names a column when that column is in the frame
        and value_is_literal is not set; otherwise it is a literal (see `resolve`).
    params: every other key of the check's value: value_is_literal, value_is_reference,
        type_insensitive, round_values, prefix, suffix, within, ordering, regex, negative,
        date_component, ...
    context: facts of the dataset being checked: "dataset_name" (e.g. "SUPPAE"),
        "domain" (e.g. "AE"), "rdomain" for SUPP--/RELREC style datasets.
    """

    target: str
    comparator: Any = None
    params: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)
