"""Golden tests of the CORE operations (cdisc/validate/core/operations.py): tiny hand-built
datasets, results derived by hand in the comments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.validate.core.library import expand, load_library
from cdisc.validate.core.operations import (
    OPERATIONS,
    DatasetNotFoundError,
    OperationContext,
    OperationError,
    run_operation,
)

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO.parent / "shared" / "reference" / "core_rules" / "sdtmig-3-4-rules.json"
NAN = float("nan")


@pytest.fixture(scope="module")
def lib():
    return load_library()


def frame(index=None, **columns) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    if index is not None:
        df.index = index
    return df


def dm():
    return frame(
        STUDYID=["S"] * 3,
        DOMAIN=["DM"] * 3,
        USUBJID=["S1", "S2", "S3"],
        RFSTDTC=["2020-01-10", "2020-01-10T08:00", "2020-02"],
        RACE=["MULTIPLE", "ASIAN", "MULTIPLE"],
    )


def ae(index=(10, 11, 12, 13, 14)):
    return frame(
        list(index),
        STUDYID=["S"] * 5,
        DOMAIN=["AE"] * 5,
        USUBJID=["S1", "S1", "S2", "S4", "S1"],
        AESEQ=[1, 2, 1, 1, 3],
        AETERM=["HEADACHE", "NAUSEA", "HEADACHE", "RASH", ""],
        AESTDTC=["2020-01-09", "2020-01-10", "2020-01-15T10:00", "2020-01-01", ""],
        AEENDTC=["", "2020-01", "2020", "2021-01-01", "2020-01-12"],
        EPOCH=["TREATMENT"] * 5,
    )


def ds():
    return frame(
        STUDYID=["S"] * 4,
        DOMAIN=["DS"] * 4,
        USUBJID=["S1", "S1", "S2", "S2"],
        DSDECOD=["DEATH", "COMPLETED", "COMPLETED", ""],
        DSCAT=["DISPOSITION EVENT", "DISPOSITION EVENT", "DISPOSITION EVENT", "PROTOCOL MILESTONE"],
        DSSTDTC=["2020-03-01", "2020-02-01T10:00", "2020-02", ""],
        EPOCH=["TREATMENT", "FOLLOW-UP", "TREATMENT", "SCREENING"],
    )


def suppdm():
    return frame(
        STUDYID=["S"] * 4,
        RDOMAIN=["DM"] * 4,
        USUBJID=["S1", "S1", "S3", "S2"],
        IDVAR=[""] * 4,
        IDVARVAL=[""] * 4,
        QNAM=["RACE1", "RACE2", "RACE1", "OTHER"],
        QVAL=["ASIAN", "WHITE", "ASIAN", "X"],
    )


def suppae():
    return frame(
        STUDYID=["S"] * 5,
        RDOMAIN=["AE", "AE", "AE", "XX", "AE"],
        USUBJID=["S1", "S1", "S2", "S1", "S1"],
        IDVAR=["AESEQ", "AEFOO", "", "AESEQ", "AETERM"],
        IDVARVAL=["1", "2", "", "1", "X"],
        QNAM=["AETRTEM", "AETRTEM", "AETRTEM", "AETRTEM", "AETRTEM"],
        QVAL=["Y"] * 5,
    )


def package(**extra):
    datasets = {"DM": dm(), "AE": ae(), "DS": ds(), "SUPPDM": suppdm(), "SUPPAE": suppae()}
    datasets.update(extra)
    return datasets


def ctx_for(name, lib, datasets=None, domain=None, frame_=None):
    datasets = package() if datasets is None else datasets
    data = datasets[name] if frame_ is None else frame_
    if domain is None:
        domain = name[4:6] if name.startswith("SUPP") else name[:2]
    return OperationContext(
        frame=data, dataset_name=name, domain=domain, datasets=datasets, library=lib
    )


def op(operator, ctx, **params):
    return OPERATIONS[operator](ctx, {"operator": operator, "id": f"${operator}", **params})


def values(series: pd.Series) -> list:
    return [
        None if v is None else ("nan" if isinstance(v, float) and np.isnan(v) else v)
        for v in series.tolist()
    ]


# --- the catalogue --------------------------------------------------------------------------------


def _catalogue():
    if not CATALOGUE.is_file():
        pytest.skip("../shared/reference/core_rules not available")
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def test_every_catalogue_operation_is_implemented():
    operators = {o["operator"] for r in _catalogue() for o in (r.get("operations") or [])}
    assert len(operators) == 24
    assert operators <= set(OPERATIONS)


def test_unknown_operator_is_not_executable(lib):
    with pytest.raises(OperationError):
        run_operation(ctx_for("AE", lib), {"operator": "nonsense", "id": "$x"})
    assert run_operation(ctx_for("AE", lib), {"operator": "dataset_names", "id": "$x"}) == [
        "AE",
        "DM",
        "DS",
        "SUPPAE",
        "SUPPDM",
    ]


# --- distinct -------------------------------------------------------------------------------------


def test_distinct_other_domain_keeps_empty_text(lib):
    # DS.DSDECOD in order of appearance; "" is a value (CORE keeps it)
    assert op("distinct", ctx_for("DM", lib), domain="DS", name="DSDECOD") == [
        "DEATH",
        "COMPLETED",
        "",
    ]


def test_distinct_own_dataset_and_current_domain(lib):
    ctx = ctx_for("AE", lib)
    assert op("distinct", ctx, name="USUBJID") == ["S1", "S2", "S4"]
    assert op("distinct", ctx, name="USUBJID", domain="AE") == ["S1", "S2", "S4"]


def test_distinct_other_domain_when_ctx_domain_names_it(lib):
    # the dataset checked is DM (its DOMAIN says so) even if ctx.domain carries the operation's
    # domain: DS is still read from the package (CORE is_current_domain looks at the data)
    ctx = ctx_for("DM", lib, domain="DS")
    assert op("distinct", ctx, domain="DS", name="USUBJID") == ["S1", "S2"]
    assert op("required_variables", ctx_for("DM", lib, domain="DS"))[:4] == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "SUBJID",
    ]


def test_distinct_drops_missing_numbers(lib):
    tv = frame(DOMAIN=["TV"] * 4, VISITNUM=[1.0, NAN, 2.0, 1.0])
    assert op("distinct", ctx_for("DM", lib, package(TV=tv)), domain="TV", name="VISITNUM") == [
        1.0,
        2.0,
    ]


def test_distinct_with_filter(lib):
    result = op(
        "distinct",
        ctx_for("DM", lib),
        domain="DS",
        name="DSDECOD",
        filter={"DSCAT": "DISPOSITION EVENT"},
    )
    assert result == ["DEATH", "COMPLETED"]


def test_distinct_grouped_maps_each_row_to_its_subject(lib):
    # AE rows S1, S1, S2, S4, S1 get their subject's DS.DSDECOD values; S4 has no DS records
    result = op("distinct", ctx_for("AE", lib), domain="DS", name="DSDECOD", group=["USUBJID"])
    assert list(result.index) == [10, 11, 12, 13, 14]
    assert result.tolist() == [
        ["DEATH", "COMPLETED"],
        ["DEATH", "COMPLETED"],
        ["COMPLETED", ""],
        None,
        ["DEATH", "COMPLETED"],
    ]


def test_distinct_grouped_with_filter_groups_the_matching_records(lib):
    # CORE filters, then groups: only S2 has a PROTOCOL MILESTONE record (DSDECOD ""), so S1,
    # who has other DS records, is no group here
    result = op(
        "distinct",
        ctx_for("DM", lib),
        domain="DS",
        name="DSDECOD",
        group=["USUBJID"],
        filter={"DSCAT": "PROTOCOL MILESTONE"},
    )
    # filtered DS: one record (S2, ""); DM rows S1, S2, S3
    assert result.tolist() == [None, [""], None]


def test_distinct_value_is_reference(lib):
    # IDVAR names a column of the RDOMAIN dataset: AESEQ yes, AEFOO no, "" no, XX is no dataset,
    # AETERM yes
    result = op(
        "distinct", ctx_for("SUPPAE", lib), domain="SUPPAE", name="IDVAR", value_is_reference=True
    )
    assert result == ["AESEQ", "AETERM"]


def test_dataset_name_pattern_in_domain(lib):
    # "SUPP--" (left as is by "--" expansion) is the SUPP-- dataset being checked, or, from a
    # parent dataset, its SUPP--
    supp = op(
        "distinct", ctx_for("SUPPAE", lib), domain="SUPP--", name="IDVAR", value_is_reference=True
    )
    assert supp == ["AESEQ", "AETERM"]
    assert op("distinct", ctx_for("AE", lib), domain="SUPP--", name="QNAM") == ["AETRTEM"]
    with pytest.raises(DatasetNotFoundError):
        op("distinct", ctx_for("DS", lib), domain="SUPP--", name="QNAM")


def test_distinct_value_is_reference_grouped(lib):
    result = op(
        "distinct", ctx_for("SUPPAE", lib), name="IDVAR", value_is_reference=True, group=["USUBJID"]
    )
    # S1: AESEQ (AE), AEFOO (not in AE), AESEQ (XX: no dataset), AETERM -> [AESEQ, AETERM]; S2: ""
    assert result.tolist() == [
        ["AESEQ", "AETERM"],
        ["AESEQ", "AETERM"],
        [],
        ["AESEQ", "AETERM"],
        ["AESEQ", "AETERM"],
    ]


def test_distinct_split_dataset_by_domain(lib):
    lb1 = frame(DOMAIN=["LB", "LB"], USUBJID=["S1", "S2"], LBTESTCD=["ALB", "GLUC"])
    lb2 = frame(DOMAIN=["LB"], USUBJID=["S3"], LBTESTCD=["HGB"])
    ctx = ctx_for("DM", lib, package(LB1=lb1, LB2=lb2))
    assert op("distinct", ctx, domain="LB", name="LBTESTCD") == ["ALB", "GLUC", "HGB"]


def test_distinct_missing_dataset_and_variable(lib):
    with pytest.raises(DatasetNotFoundError) as error:
        op("distinct", ctx_for("DM", lib), domain="TV", name="VISITNUM")
    assert error.value.dataset == "TV"
    with pytest.raises(OperationError) as error:
        op("distinct", ctx_for("DM", lib), domain="DS", name="DSNOPE")
    assert not isinstance(error.value, DatasetNotFoundError)
    with pytest.raises(OperationError):
        op("distinct", ctx_for("AE", lib), domain="DS", name="DSDECOD", group=["NOPE"])


# --- record_count ---------------------------------------------------------------------------------


def test_record_count_ungrouped(lib):
    assert op("record_count", ctx_for("AE", lib)) == 5
    assert (
        op(
            "record_count",
            ctx_for("AE", lib),
            domain="DM",
            filter={"RACE": "MULTIPLE"},
            name="RACE",
        )
        == 2
    )
    assert (
        op(
            "record_count",
            ctx_for("AE", lib),
            domain="DS",
            filter={"DSCAT": "DISPOSITION EVENT", "EPOCH": "TREATMENT"},
        )
        == 2
    )


def test_record_count_of_an_empty_dataset(lib):
    empty = frame(STUDYID=pd.Series([], dtype="object"), DOMAIN=pd.Series([], dtype="object"))
    assert op("record_count", ctx_for("CM", lib, package(CM=empty))) == 0


def test_record_count_wildcard_filter_grouped_on_another_dataset(lib):
    # SUPPDM QNAM starting with RACE per subject: S1 RACE1+RACE2 = 2, S2 only OTHER = 0, S3 = 1
    result = op(
        "record_count",
        ctx_for("DM", lib),
        domain="SUPPDM",
        filter={"QNAM": "RACE&"},
        group=["USUBJID"],
        name="QNAM",
    )
    assert result.tolist() == [2, 0, 1] and result.dtype == "int64"


def test_record_count_grouped_row_without_group_is_nan(lib):
    extra = frame(
        STUDYID=["S"] * 4,
        DOMAIN=["DM"] * 4,
        USUBJID=["S1", "S2", "S3", "S9"],
        RFSTDTC=[""] * 4,
        RACE=["MULTIPLE"] * 4,
    )
    datasets = package(DM=extra)
    result = op(
        "record_count",
        ctx_for("DM", lib, datasets),
        domain="SUPPDM",
        filter={"QNAM": "RACE&"},
        group=["USUBJID"],
    )
    assert values(result) == [2.0, 0.0, 1.0, "nan"]


def test_record_count_grouped_with_filter_zero_for_groups_without_matches(lib):
    # DS grouped by USUBJID, EPOCH counting DISPOSITION EVENT records:
    # (S1,TREATMENT) 1, (S1,FOLLOW-UP) 1, (S2,TREATMENT) 1, (S2,SCREENING) 0 (a milestone)
    result = op(
        "record_count",
        ctx_for("DS", lib),
        domain="DS",
        filter={"DSCAT": "DISPOSITION EVENT"},
        group=["USUBJID", "EPOCH"],
        name="DSCAT",
    )
    assert result.tolist() == [1, 1, 1, 0]


def test_record_count_group_aliases(lib):
    # counts of SUPPDM records per USUBJID joined on DM by an alias column SUBJ
    dm_alias = dm().rename(columns={"USUBJID": "SUBJ"})
    ctx = ctx_for("DM", lib, package(DM=dm_alias))
    result = op("record_count", ctx, domain="SUPPDM", group=["USUBJID"], group_aliases=["SUBJ"])
    assert result.tolist() == [2, 1, 1]


def lb_frame():
    df = frame(
        STUDYID=["S"] * 6,
        DOMAIN=["LB"] * 6,
        USUBJID=["S1", "S1", "S1", "S1", "S2", "S2"],
        LBTESTCD=["ALB", "ALB", "ALB", "GLUC", "ALB", "ALB"],
        VISITNUM=[1.0, 1.0, 2.0, 1.0, 1.0, 1.0],
        LBDTC=[
            "2020-01-01T08:00",
            "2020-01-01T09:00",
            "2020-01-01T10:00",
            "2020-01-01T08:00",
            "",
            "",
        ],
        LBREPNUM=[1.0, 2.0, NAN, NAN, NAN, NAN],
    )
    return df


def test_record_count_grouped_by_timing_variables_with_regex(lib):
    lb = lb_frame()
    lb["$TIMING_VARIABLES"] = [["VISITNUM", "LBDTC"]] * len(lb)
    ctx = ctx_for("LB", lib, package(LB=lb_frame()), frame_=lb)
    params = dict(group=["USUBJID", "LBTESTCD", "$TIMING_VARIABLES"])
    # by date (regex): rows 0 and 1 share S1/ALB/visit 1/2020-01-01; rows 4, 5 share empty dates
    regex = op("record_count", ctx, regex=r"^\d{4}-\d{2}-\d{2}", **params)
    assert regex.tolist() == [2, 2, 1, 1, 2, 2]
    # without the regex the times differ
    assert op("record_count", ctx, **params).tolist() == [1, 1, 1, 1, 2, 2]


def test_record_count_grouped_on_an_empty_frame(lib):
    empty = lb_frame().iloc[0:0]
    result = op("record_count", ctx_for("LB", lib, package(LB=empty)), group=["USUBJID"])
    assert len(result) == 0


def test_record_count_missing_dataset_and_filter_variable(lib):
    with pytest.raises(DatasetNotFoundError):
        op("record_count", ctx_for("DM", lib), domain="SUPPXX", group=["USUBJID"])
    with pytest.raises(OperationError):
        op("record_count", ctx_for("DM", lib), filter={"NOPE": "Y"})


def test_grouping_joins_numbers_with_text_keys(lib):
    # SV.VISITNUM as text, the frame's VISITNUM as numbers: 1.0 joins "1"
    sv = frame(DOMAIN=["SV"] * 3, USUBJID=["S1", "S1", "S2"], VISITNUM=["1", "1", "2"])
    lb = frame(DOMAIN=["LB"] * 3, USUBJID=["S1", "S2", "S2"], VISITNUM=[1.0, 2.0, 3.0])
    ctx = ctx_for("LB", lib, package(SV=sv, LB=lb))
    assert values(op("record_count", ctx, domain="SV", group=["VISITNUM"])) == [2.0, 1.0, "nan"]


# --- variable_exists / get_column_order_from_dataset ----------------------------------------------


def test_variable_exists(lib):
    ex = frame(DOMAIN=["EX"], USUBJID=["S1"], EXVAMTU=["mL"])
    ctx = ctx_for("AE", lib, package(EX=ex))
    assert op("variable_exists", ctx, name="AETERM") is True
    assert op("variable_exists", ctx, name="MIDS") is False
    assert op("variable_exists", ctx, name="EXVAMTU", domain="EX") is True
    with pytest.raises(DatasetNotFoundError):
        op("variable_exists", ctx, name="EXVAMT", domain="EC")


def test_variable_exists_reads_the_submitted_dataset_not_the_metadata_frame(lib):
    metadata = frame(variable_name=["STUDYID", "AETERM"], variable_label=["Study", "Term"])
    ctx = ctx_for("AE", lib, frame_=metadata)
    assert op("variable_exists", ctx, name="AETERM") is True
    assert op("get_column_order_from_dataset", ctx)[:4] == ["STUDYID", "DOMAIN", "USUBJID", "AESEQ"]


def test_get_column_order_from_dataset_leaves_out_engine_columns(lib):
    df = ae()
    df["$dy"] = 1
    df["source_row_number"] = range(5)
    ctx = OperationContext(frame=df, dataset_name="AE", domain="AE", datasets={}, library=lib)
    assert op("get_column_order_from_dataset", ctx) == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "AESEQ",
        "AETERM",
        "AESTDTC",
        "AEENDTC",
        "EPOCH",
    ]


# --- dates ----------------------------------------------------------------------------------------


def test_max_and_min_date_ungrouped(lib):
    ctx = ctx_for("AE", lib)
    # AEENDTC: "", 2020-01, 2020, 2021-01-01, 2020-01-12; partial dates count from their first
    # instant, so 2020-01 and 2020 tie at 2020-01-01 and the first one written wins
    assert op("max_date", ctx, name="AEENDTC") == "2021-01-01"
    assert op("min_date", ctx, name="AEENDTC") == "2020-01"
    assert op("max_date", ctx, name="AESTDTC") == "2020-01-15T10:00"  # as written, its precision


def test_date_extremes_without_dates(lib):
    odd = frame(DOMAIN=["XX"] * 3, XXDTC=["", "NOT A DATE", "2020-01-05"])
    ctx = ctx_for("XX", lib, package(XX=odd))
    assert op("max_date", ctx, name="XXDTC") == "2020-01-05"  # a non-date is ignored
    none = frame(DOMAIN=["XX"] * 2, XXDTC=["", ""])
    assert op("min_date", ctx_for("XX", lib, package(XX=none)), name="XXDTC") == ""


def test_max_date_compares_instants_across_offsets(lib):
    # 23:00 at -05:00 is 04:00Z the next day: later than 01:00Z
    tz = frame(DOMAIN=["XX"] * 2, XXDTC=["2020-01-01T23:00-05:00", "2020-01-02T01:00Z"])
    ctx = ctx_for("XX", lib, package(XX=tz))
    assert op("max_date", ctx, name="XXDTC") == "2020-01-01T23:00-05:00"
    assert op("min_date", ctx, name="XXDTC") == "2020-01-02T01:00Z"


def test_max_and_min_date_grouped_on_another_dataset(lib):
    ctx = ctx_for("DM", lib)
    # DS.DSSTDTC per subject: S1 2020-03-01 / 2020-02-01T10:00, S2 2020-02 and "", S3 none
    assert op("max_date", ctx, domain="DS", name="DSSTDTC", group=["USUBJID"]).tolist() == [
        "2020-03-01",
        "2020-02",
        "",
    ]
    assert op("min_date", ctx, domain="DS", name="DSSTDTC", group=["USUBJID"]).tolist() == [
        "2020-02-01T10:00",
        "2020-02",
        "",
    ]


def test_min_date_missing_dataset(lib):
    with pytest.raises(DatasetNotFoundError):
        op("min_date", ctx_for("DM", lib), domain="EX", name="EXSTDTC", group=["USUBJID"])


def test_max_text_and_numbers(lib):
    ctx = ctx_for("AE", lib)
    # CORE "max" is pandas max: text compares as text, empty text is skipped
    result = op("max", ctx, domain="DS", name="DSSTDTC", group=["USUBJID"])
    assert result.tolist() == ["2020-03-01", "2020-03-01", "2020-02", "", "2020-03-01"]
    text = frame(DOMAIN=["XX"] * 2, XXDTC=["2020-01-01", "2020-01-01T10:00"], XXN=[3.0, NAN])
    xx = ctx_for("XX", lib, package(XX=text))
    assert op("max", xx, name="XXDTC") == "2020-01-01T10:00"
    assert op("max", xx, name="XXN") == 3.0
    assert op("max", ctx, name="AESEQ") == 3


def test_dy(lib):
    ctx = ctx_for("AE", lib)
    # DM.RFSTDTC: S1 2020-01-10, S2 2020-01-10T08:00; S4 is not in DM; the last AESTDTC is empty
    # 2020-01-09 -> -1 (no day 0), 2020-01-10 -> 1, 2020-01-15T10:00 vs 2020-01-10 -> 6
    result = op("dy", ctx, name="AESTDTC")
    assert list(result.index) == [10, 11, 12, 13, 14]
    assert values(result) == [-1.0, 1.0, 6.0, "nan", "nan"]


def test_dy_needs_complete_dates_and_dm(lib):
    # S3's RFSTDTC is 2020-02 (partial): no study day; AEENDTC 2020-01 is partial too
    extra = frame(DOMAIN=["AE"] * 2, USUBJID=["S3", "S1"], AEENDTC=["2020-02-05", "2020-01"])
    ctx = ctx_for("AE", lib, package(AE=extra))
    assert values(op("dy", ctx, name="AEENDTC")) == ["nan", "nan"]
    no_dm = {k: v for k, v in package().items() if k != "DM"}
    with pytest.raises(DatasetNotFoundError):
        op("dy", ctx_for("AE", lib, no_dm), name="AESTDTC")
    with pytest.raises(OperationError):
        op("dy", ctx_for("AE", lib), name="AEDTC")


# --- study level ----------------------------------------------------------------------------------


def test_study_domains_and_dataset_names(lib):
    ctx = ctx_for("AE", lib)
    # SUPP-- datasets have no DOMAIN: CORE counts them as ""
    assert op("study_domains", ctx) == ["", "AE", "DM", "DS"]
    assert op("dataset_names", ctx) == ["AE", "DM", "DS", "SUPPAE", "SUPPDM"]


def test_variable_count(lib):
    lb1 = frame(DOMAIN=["LB"], USUBJID=["S1"], LBLNKGRP=["G1"])
    lb2 = frame(DOMAIN=["LB"], USUBJID=["S2"], LBLNKGRP=["G2"])
    cm = frame(DOMAIN=["CM"], USUBJID=["S1"], CMTRT=["X"])
    datasets = package(LB1=lb1, LB2=lb2, CM=cm)
    datasets["AE"] = ae().assign(AELNKGRP="G1")
    ctx = ctx_for("AE", lib, datasets)
    # --LNKGRP: AELNKGRP and LBLNKGRP (LB1 and LB2 are one domain); CM has none; SUPP-- no DOMAIN
    assert op("variable_count", ctx, name="AELNKGRP") == 2
    assert op("variable_count", ctx, name="AELNKGRP", original_name="--LNKGRP") == 2
    assert op("variable_count", ctx, name="AELNKID") == 0
    # no "--": every dataset with USUBJID counts, the SUPP-- too
    # (CORE: 7 = AE DM DS LB CM SUPPDM SUPPAE)
    assert op("variable_count", ctx, name="USUBJID") == 7


# --- library based --------------------------------------------------------------------------------


def test_domain_label(lib):
    assert op("domain_label", ctx_for("AE", lib)) == "Adverse Events"
    lb = frame(DOMAIN=["LB"], USUBJID=["S1"])
    assert op("domain_label", ctx_for("LB", lib, package(LB=lb))) == "Laboratory Test Results"
    xx = frame(DOMAIN=["XX"], XXTERM=["A"])
    assert op("domain_label", ctx_for("XX", lib, package(XX=xx))) == ""
    assert op("domain_label", ctx_for("SUPPAE", lib)) == ""


def test_domain_is_custom(lib):
    assert op("domain_is_custom", ctx_for("AE", lib)) is False
    assert op("domain_is_custom", ctx_for("SUPPAE", lib)) is False
    xx = frame(DOMAIN=["XX"], XXTERM=["A"])
    assert op("domain_is_custom", ctx_for("XX", lib, package(XX=xx))) is True


def test_required_variables(lib):
    lb = frame(DOMAIN=["LB"], USUBJID=["S1"])
    # the Operations.md example for LB
    assert op("required_variables", ctx_for("LB", lib, package(LB=lb))) == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "LBSEQ",
        "LBTESTCD",
        "LBTEST",
    ]
    assert op("required_variables", ctx_for("DM", lib)) == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "SUBJID",
        "SITEID",
        "SEX",
        "COUNTRY",
    ]
    assert op("required_variables", ctx_for("SUPPAE", lib)) == [
        "STUDYID",
        "RDOMAIN",
        "USUBJID",
        "QNAM",
        "QLABEL",
        "QVAL",
        "QORIG",
    ]  # IDVAR, IDVARVAL: Exp
    # a custom domain's variables come from the model, which has no core
    xx = frame(DOMAIN=["XX"], XXTERM=["A"])
    assert op("required_variables", ctx_for("XX", lib, package(XX=xx))) == []


def test_expected_variables(lib):
    assert op("expected_variables", ctx_for("DM", lib)) == [
        "RFSTDTC",
        "RFENDTC",
        "RFXSTDTC",
        "RFXENDTC",
        "RFICDTC",
        "RFPENDTC",
        "DTHDTC",
        "DTHFL",
        "AGE",
        "AGEU",
        "RACE",
        "ARMCD",
        "ARM",
        "ACTARMCD",
        "ACTARM",
        "ARMNRS",
        "ACTARMUD",
    ]
    # AE: in the model's order (the Events variables, then timing)
    assert op("expected_variables", ctx_for("AE", lib)) == [
        "AELLT",
        "AELLTCD",
        "AEPTCD",
        "AEHLT",
        "AEHLTCD",
        "AEHLGT",
        "AEHLGTCD",
        "AEBODSYS",
        "AEBDSYCD",
        "AESOC",
        "AESOCCD",
        "AESER",
        "AEACN",
        "AEREL",
        "AESTDTC",
        "AEENDTC",
    ]


def test_custom_domain_without_a_topic_variable_is_not_executable(lib):
    xx = frame(DOMAIN=["XX"], XXFOO=["A"])
    with pytest.raises(OperationError):
        op("required_variables", ctx_for("XX", lib, package(XX=xx)))


def test_get_column_order_from_library(lib):
    assert op("get_column_order_from_library", ctx_for("DM", lib)) == [
        v.name for v in lib.variables("DM")
    ]
    assert op(
        "get_column_order_from_library", ctx_for("DM", lib), key_name="role", key_value="Timing"
    ) == ["DMDTC", "DMDY"]
    order = op("get_column_order_from_library", ctx_for("AE", lib))
    assert order[:9] == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "POOLID",
        "SPDEVID",
        "NHOID",
        "FETUSID",
        "FOCID",
        "AESEQ",
    ]
    assert order[16] == "AETERM" and len(order) == 120


def test_get_model_column_order(lib):
    assert op("get_model_column_order", ctx_for("DM", lib)) == [
        v.name for v in lib.model_variables("DM")
    ]
    xx = frame(DOMAIN=["XX"], USUBJID=["S1"], XXTESTCD=["A"])
    order = op("get_model_column_order", ctx_for("XX", lib, package(XX=xx)))
    expected = [
        expand(v.name, "XX")
        for v in lib.identifier_variables + lib.class_variables("FINDINGS") + lib.timing_variables
    ]
    assert order == expected and "XXORRES" in order and order[-1] == "XXPDUR"


def test_get_model_filtered_variables(lib):
    timing = op(
        "get_model_filtered_variables", ctx_for("AE", lib), key_name="role", key_value="Timing"
    )
    assert len(timing) == 48 and timing[:2] == ["VISITNUM", "VISIT"] and "AESTDTC" in timing
    assert op(
        "get_model_filtered_variables", ctx_for("AE", lib), key_name="role", key_value="Topic"
    ) == ["AETERM"]


def test_get_dataset_filtered_variables(lib):
    # AE's own Timing variables, in library order (EPOCH before the dates)
    assert op(
        "get_dataset_filtered_variables", ctx_for("AE", lib), key_name="role", key_value="Timing"
    ) == ["EPOCH", "AESTDTC", "AEENDTC"]
    lb = lb_frame()
    assert op(
        "get_dataset_filtered_variables",
        ctx_for("LB", lib, package(LB=lb)),
        key_name="role",
        key_value="Timing",
    ) == ["VISITNUM", "LBDTC"]


def test_get_parent_model_column_order(lib):
    rows = suppae().iloc[[0, 1, 2]].copy()
    rows.loc[2, "RDOMAIN"] = ""
    ctx = ctx_for("SUPPAE", lib, package(SUPPAE=rows))
    result = op("get_parent_model_column_order", ctx)
    ae_order = [
        expand(v.name, "AE")
        for v in lib.identifier_variables + lib.class_variables("EVENTS") + lib.timing_variables
    ]
    assert result.tolist() == [ae_order, ae_order, []]
    rows.loc[0, "RDOMAIN"] = "CM"
    with pytest.raises(DatasetNotFoundError):
        op("get_parent_model_column_order", ctx_for("SUPPAE", lib, package(SUPPAE=rows)))


def test_codelist_terms(lib):
    ctx = ctx_for("DM", lib)
    assert op("codelist_terms", ctx, codelists=["SEX"], level="term", returntype="code") == [
        "C16576",
        "C45908",
        "C20197",
        "C17998",
    ]
    assert op("codelist_terms", ctx, codelists=["sex"], level="term", returntype="value") == [
        "F",
        "INTERSEX",
        "M",
        "U",
    ]
    assert op("codelist_terms", ctx, codelists=["SEX"], level="term", returntype="pref_term") == [
        "Female",
        "Intersex",
        "Male",
        "Unknown",
    ]
    assert op(
        "codelist_terms", ctx, codelists=["SEX", "NY"], level="codelist", returntype="code"
    ) == ["C66731", "C66742"]
    domains = op("codelist_terms", ctx, codelists=["DOMAIN"], level="term", returntype="code")
    assert "C49562" in domains and len(domains) == 83  # C49562 = AE
    with pytest.raises(OperationError):
        op("codelist_terms", ctx, codelists=["NOPE"], level="term", returntype="code")


def test_codelist_terms_per_record(lib):
    df = frame(
        DOMAIN=["XX"] * 3,
        CL=["C66731", "C66731", "C66742"],
        CODE=["C20197", "C99999", "C49488"],
        VER=["2025-03-28", "2025-03-28", "2019-12-20"],
    )
    ctx = ctx_for("XX", lib, package(XX=df))
    result = op(
        "codelist_terms",
        ctx,
        ct_package_type="SDTM",
        version="VER",
        codelist_code="CL",
        term_code="CODE",
    )
    # M in SEX; no such term; a CT version that is not vendored
    assert result.tolist() == ["M", None, None]


def test_valid_codelist_dates(lib):
    dates = op(
        "valid_codelist_dates",
        ctx_for("TS", lib, package(TS=frame(DOMAIN=["TS"]))),
        ct_package_types=["SDTM"],
    )
    assert (
        dates[0] == "2014-09-26"
        and dates[-1] == "2025-09-26"
        and "2025-03-28" in dates
        and len(dates) == 42
    )
    with pytest.raises(OperationError):
        op("valid_codelist_dates", ctx_for("AE", lib), ct_package_types=["SEND"])


def test_get_codelist_attributes(lib):
    ts = frame(
        STUDYID=["S"] * 5,
        DOMAIN=["TS"] * 5,
        TSPARMCD=["SEXPOP"] * 5,
        TSVCDREF=["CDISC", "CDISC CT", "CDISC", "MedDRA", "CDISC"],
        TSVCDVER=["2025-03-28", "2025-03-28", "2023-12-15", "26.0", ""],
        TSVALCD=["C49636", "C49636", "C49636", "X", ""],
    )
    ctx = ctx_for("TS", lib, package(TS=ts))
    result = op(
        "get_codelist_attributes",
        ctx,
        name="TSVCDREF",
        version="TSVCDVER",
        ct_attribute="Term CCODE",
    )
    sizes = [len(v) for v in result]
    full = len(lib.ct_attribute_values("Term CCODE"))
    # the vendored package for the first two; CT 2023-12-15 and MedDRA are not vendored; no version
    assert sizes == [full, full, 0, 0, 0]
    assert "C16576" in result.iloc[0] and "C66731" not in result.iloc[0]  # terms, not codelists
    with pytest.raises(OperationError):
        op(
            "get_codelist_attributes",
            ctx,
            name="TSVCDREF",
            version="TSVCDVER",
            ct_attribute="Colour",
        )


def test_extract_metadata(lib):
    supp = suppae()
    supp.attrs["dataset_size"] = 2048
    datasets = package(SUPPAE=supp)
    ctx = ctx_for("SUPPAE", lib, datasets)
    assert op("extract_metadata", ctx, name="dataset_name") == "SUPPAE"
    assert op("extract_metadata", ctx, name="dataset_size") == 2048
    assert op("extract_metadata", ctx, name="record_count") == 5
    assert op("extract_metadata", ctx, name="is_ap") is False
    assert op("extract_metadata", ctx_for("AE", lib), name="domain") == "AE"
    apmh = frame(DOMAIN=["APMH"], MHTERM=["A"])
    ap = ctx_for("APMH", lib, package(APMH=apmh), domain="APMH")
    assert op("extract_metadata", ap, name="is_ap") is True
    assert op("extract_metadata", ap, name="ap_suffix") == "MH"
    with pytest.raises(OperationError):
        op("extract_metadata", ctx, name="dataset_label")  # the reader gave no label
    with pytest.raises(OperationError):
        op("extract_metadata", ctx, name="colour")


# --- every operation of the catalogue runs --------------------------------------------------------


def _study():
    lb = lb_frame().assign(LBSEQ=range(1, 7), LBTEST="Albumin")
    datasets = {
        "DM": dm().assign(
            ARM="A",
            ARMCD="A",
            ACTARM="A",
            ACTARMCD="A",
            RFXSTDTC="2020-01-10",
            RFXENDTC="2020-01-20",
            RFICDTC="2020-01-01",
            DTHFL="",
        ),
        "AE": ae().assign(
            AEOUT="RECOVERED/RESOLVED",
            AESDTH="N",
            AELNKGRP="",
            AELNKID="",
            AESTDY=1.0,
            AEENDY=1.0,
            AESCAT="",
            AECAT="",
        ),
        "DS": ds(),
        "EX": frame(
            STUDYID=["S"],
            DOMAIN=["EX"],
            USUBJID=["S1"],
            EXSTDTC=["2020-01-10"],
            EXENDTC=["2020-01-20"],
            EXVAMT=[1.0],
            EXVAMTU=["mL"],
        ),
        "EC": frame(STUDYID=["S"], DOMAIN=["EC"], USUBJID=["S1"], ECTRT=["X"]),
        "SV": frame(STUDYID=["S"], DOMAIN=["SV"], USUBJID=["S1"], VISITNUM=[1.0], VISIT=["V1"]),
        "TV": frame(STUDYID=["S"], DOMAIN=["TV"], VISITNUM=[1.0], VISIT=["V1"], ARMCD=["A"]),
        "TA": frame(
            STUDYID=["S"], DOMAIN=["TA"], ARMCD=["A"], ARM=["A"], EPOCH=["TREATMENT"], ETCD=["T"]
        ),
        "TE": frame(STUDYID=["S"], DOMAIN=["TE"], ETCD=["T"]),
        "TI": frame(STUDYID=["S"], DOMAIN=["TI"], IETESTCD=["IN01"], IETEST=["Adult"]),
        "TM": frame(STUDYID=["S"], DOMAIN=["TM"], MIDSTYPE=["X"], TMRPT=["N"]),
        "TS": frame(
            STUDYID=["S"] * 2,
            DOMAIN=["TS"] * 2,
            TSPARMCD=["AGE", "STYPE"],
            TSVAL=["18", "INTERVENTIONAL"],
            TSVALNF=["", ""],
            TSVALCD=["", "C98388"],
            TSVCDREF=["", "CDISC"],
            TSVCDVER=["", "2025-03-28"],
        ),
        "DD": frame(STUDYID=["S"], DOMAIN=["DD"], USUBJID=["S2"], DDTESTCD=["PRCDTH"]),
        "SS": frame(
            STUDYID=["S"],
            DOMAIN=["SS"],
            USUBJID=["S2"],
            SSTESTCD=["SURVSTAT"],
            SSSTRESC=["DEAD"],
            SSDTC=["2020-04-01"],
        ),
        "SM": frame(STUDYID=["S"], DOMAIN=["SM"], USUBJID=["S1"], MIDSTYPE=["X"]),
        "IE": frame(
            STUDYID=["S"], DOMAIN=["IE"], USUBJID=["S1"], IETESTCD=["IN01"], IETEST=["Adult"]
        ),
        "LB": lb,
        "CO": frame(STUDYID=["S"], DOMAIN=["CO"], RDOMAIN=["AE"], USUBJID=["S1"], IDVAR=["AESEQ"]),
        "RELREC": frame(
            STUDYID=["S"], RDOMAIN=["AE"], USUBJID=["S1"], IDVAR=["AESEQ"], RELID=["R1"]
        ),
        "SUPPDM": suppdm(),
        "SUPPAE": suppae().assign(RDOMAIN="AE"),
    }
    for df in datasets.values():
        df.attrs["dataset_size"] = 1024
    return datasets


def _dataset_for(rule, study) -> str:
    include = [
        {"SUPP--": "SUPPAE", "AP--": "AE"}.get(d, d)
        for d in ((rule.get("domains") or {}).get("Include") or [])
        if d != "ALL"
    ]
    names = {o.get("name") for o in rule.get("operations") or []}
    present = [d for d in include if d in study]
    if present:
        return present[0]
    classes = (rule.get("classes") or {}).get("Include") or []
    return "LB" if "FINDINGS" in classes or "--DTC" in names else "AE"


def _substitute(value, prefix):
    """Replace "--" by the domain prefix as the engine does; dataset-name patterns ("SUPP--")
    stay."""
    if isinstance(value, str):
        return (
            value.replace("--", prefix, 1) if "--" in value and not value.endswith("--") else value
        )
    if isinstance(value, list):
        return [_substitute(v, prefix) for v in value]
    if isinstance(value, dict):
        return {_substitute(k, prefix): _substitute(v, prefix) for k, v in value.items()}
    return value


def test_every_catalogue_operation_runs_on_a_small_study(lib):
    study = _study()
    ran = set()
    for rule in _catalogue():
        operations = rule.get("operations") or []
        if not operations:
            continue
        name = _dataset_for(rule, study)
        domain = (
            name[4:] if name.startswith("SUPP") else name[:2] if name not in ("RELREC",) else name
        )
        data = study[name].copy()
        ctx = OperationContext(
            frame=data, dataset_name=name, domain=domain, datasets=study, library=lib
        )
        for operation in operations:
            params = _substitute(operation, domain)
            result = OPERATIONS[params["operator"]](ctx, params)
            if isinstance(result, pd.Series):
                assert result.index.equals(data.index), (rule["core_id"], params)
                data[params["id"]] = result
            elif isinstance(result, list):
                data[params["id"]] = [result] * len(data)
            else:
                data[params["id"]] = result
            ran.add(params["operator"])
    assert len(ran) == 24
