"""The one Dataset builder: values typed as the metadata says, mismatches refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc.build import check_metadata, make_dataset, typed_table
from cdisc.errors import ConformanceError, SpecError
from cdisc.model import Column
from cdisc.specs import load_specs


def _dm_columns() -> list[Column]:
    return [Column("STUDYID", "Study Identifier", "Char"),
            Column("USUBJID", "Unique Subject Identifier", "Char"),
            Column("AGE", "Age", "Num")]


def test_values_stored_as_their_type() -> None:
    table = pd.DataFrame({"STUDYID": ["S", "S", None], "USUBJID": ["S-1", np.nan, "S-3"],
                          "AGE": ["34", "", None], "EXTRA": [1, 2, 3]})
    typed = typed_table("DM", _dm_columns(), table)
    assert list(typed.columns) == ["STUDYID", "USUBJID", "AGE"]
    assert typed["STUDYID"].tolist() == ["S", "S", ""]
    assert typed["USUBJID"].tolist() == ["S-1", "", "S-3"]
    assert typed["AGE"].dtype == "float64" and typed["AGE"].iloc[0] == 34.0
    assert typed["AGE"].iloc[1:].isna().all()


def test_text_in_a_number_is_an_error_naming_row_and_column() -> None:
    table = pd.DataFrame({"STUDYID": ["S", "S"], "USUBJID": ["S-1", "S-2"],
                          "AGE": ["34", "thirty"]})
    with pytest.raises(ConformanceError) as err:
        typed_table("DM", _dm_columns(), table)
    assert (err.value.file, err.value.row, err.value.column, err.value.value) == \
        ("DM", 2, "AGE", "thirty")


def test_a_missing_column_is_an_error() -> None:
    with pytest.raises(SpecError) as err:
        typed_table("DM", _dm_columns(), pd.DataFrame({"STUDYID": ["S"]}))
    assert "USUBJID, AGE" in err.value.message


@pytest.mark.parametrize(("columns", "says"), [
    ([Column("STUDYID", "Study Identifier", "Char"), Column("AGE", "Age", "Char")],
     "DM.AGE is Char but SDTMIG says Num"),
    ([Column("STUDYID", "Study Id", "Char")],
     "DM.STUDYID is labelled 'Study Id' but SDTMIG says 'Study Identifier'"),
    ([Column("AGE", "Age", "Num"), Column("STUDYID", "Study Identifier", "Char")],
     "DM: variables out of SDTMIG order: AGE, STUDYID"),
    ([Column("agex", "Age", "Num")], "DM.agex: a variable name"),
    ([Column("AGE", "A" * 41, "Num")], "DM.AGE: label over 40 characters"),
])
def test_metadata_mismatches_are_errors(columns: list[Column], says: str) -> None:
    with pytest.raises(SpecError) as err:
        check_metadata("DM", columns, load_specs())
    assert err.value.message.startswith(says)


def test_make_dataset_checks_then_types() -> None:
    ds = make_dataset("DM", "Demographics", _dm_columns(),
                      pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "AGE": [40]},
                                   index=[7]),
                      load_specs(), keys=("STUDYID", "USUBJID"), standard="SDTMIG")
    assert ds.data.index.tolist() == [0] and ds.data["AGE"].tolist() == [40.0]
    assert ds.keys == ("STUDYID", "USUBJID")
