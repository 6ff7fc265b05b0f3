"""Assemble ADSL, ADRS and ADTTE as Dataset objects (metadata from specs/, SAS numeric dates,
origins and methods for define.xml) and run the ADaM stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc import dates
from cdisc.adam.adae import ADSL_CARRIED as ADAE_CARRIED
from cdisc.adam.adae import build_adae
from cdisc.adam.adpc import build_adpc
from cdisc.adam.adpp import build_adpp
from cdisc.adam.adrs import build_adrs, response_population, response_rate, subject_values
from cdisc.adam.adsl import DM_VARIABLES, build_adsl
from cdisc.adam.adtte import build_adtte
from cdisc.adam.config import AdamConfig, AdverseEvents, load_config
from cdisc.adam.describe import NY, VariableText, variable_texts
from cdisc.adam.safety_tables import safety_tables, table_notes
from cdisc.adam.inputs import DOMAINS, apply_cutoff, by_subject, read_sdtm
from cdisc.build import make_dataset
from cdisc.errors import SpecError
from cdisc.model import Column, Dataset, Origin
from cdisc.specs import ADAM_PARENT, Specs, adam_variable, load_specs

ADSL_ORDER = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "AGEGR1", "AGEGR1N",
              "SEX", "RACE", "ETHNIC", "COUNTRY", "ARM", "ARMCD", "ACTARM", "ACTARMCD", "TRT01P",
              "TRT01PN", "TRT01A", "TRT01AN", "ENRLFL", "TRTFL", "SAFFL", "EFFFL", "LDSTDT",
              "TRTSDT", "TRTSDTM", "TRTEDT", "TRTEDTM", "TRTDURD", "FCRCRIDT", "BORC", "HSCTDT",
              "NACTDT", "EOSSTT", "DCSREAS", "DTHFL", "DTHDT", "DTHDTF", "DTH30FL", "DTH100FL",
              "DTHCAUS", "LSTALVDT", "DCUTDT"]
ADSL_CARRIED = ["SUBJID", "SITEID", "AGE", "AGEGR1", "SEX", "RACE", "TRT01P", "TRT01A", "TRTSDT",
                "SAFFL", "EFFFL"]
ADRS_ORDER = ["STUDYID", "USUBJID", *ADSL_CARRIED, "TRTA", "TRTAN", "PARAMCD", "PARAM", "AVAL",
              "AVALC", "ADT", "ADY", "AVISIT", "AVISITN", "VISIT", "VISITNUM", "RSSEQ",
              "ANL01FL", "ANL02FL", "ASEQ"]
ADTTE_ORDER = ["STUDYID", "USUBJID", *ADSL_CARRIED, "TRTA", "TRTAN", "PARAMCD", "PARAM",
               "PARAMN", "AVAL", "STARTDT", "ADT", "CNSR", "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "SRCSEQ",
               "ASEQ"]
ADAE_ORDER = ["STUDYID", "USUBJID", *ADAE_CARRIED, "AESEQ", "AESPID", "AETERM", "AELLT",
              "AELLTCD", "AEDECOD", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT", "AEHLGTCD",
              "AEBODSYS", "AEBDSYCD", "AESOC", "AESOCCD", "AESTDTC", "ASTDT", "ASTDTF",
              "AEENDTC", "AENDT", "AENDTF", "ASTDY", "AESTDY", "AENDY", "AEENDY", "ADURN",
              "ADURU", "EPOCH", "TRTEMFL", "AOCCFL", "AOCCSFL", "AOCCPFL", "AOCCIFL",
              "AOCCSIFL", "AOCCPIFL", "AESER", "AESDTH", "AESLIFE", "AESHOSP", "AESDISAB",
              "AESCONG", "AESMIE", "AEOUT", "AEACN", "AEREL", "AERELN", "AREL", "ARELN",
              "AETOXGR", "AETOXGRN", "ATOXGR", "ATOXGRN", "AETOXGRS", "AEENRTPT", "AEENTPT"]
DATETIMES = {"TRTSDTM", "TRTEDTM", "ADTM"}
METHODS = {
    "AGEGR1": "Age group of DM.AGE by the configured groups (adam.yaml age_groups).",
    "AGEGR1N": "Order of AGEGR1 in the configured groups.",
    "TRT01P": "DM.ARM.", "TRT01A": "DM.ACTARM.",
    "TRTSDTM": "First EXSTDTC of the study treatment records (adam.yaml treatment.exposure).",
    "TRTSDT": "Date part of TRTSDTM.",
    "TRTEDTM": "Last EXENDTC (EXSTDTC when no end) of the study treatment records.",
    "TRTEDT": "Date part of TRTEDTM.", "TRTDURD": "TRTEDT - TRTSDT + 1.",
    "LSTALVDT": "Latest complete date of the last-known-alive evidence (adam.yaml "
                "alive_evidence, TRTEDT), capped at the data cut-off.",
    "DTHDT": "DM.DTHDTC; a partial date is imputed to the first day of the month (or year) "
             "but never before LSTALVDT.",
    "DTHDTF": "D when the day of DTHDT was imputed, M when month and day were.",
    "DTHCAUS": "SUPPDM.QVAL where QNAM = DTHCAUS.",
    "HSCTDT": "First allogeneic transplant date on or after TRTSDT (adam.yaml intercurrent).",
    "NACTDT": "First new anticancer therapy date on or after TRTSDT (adam.yaml intercurrent).",
    "EOSSTT": "COMPLETED or DISCONTINUED from the end-of-study DS record; ONGOING without one.",
    "DCSREAS": "DSDECOD of the end-of-study DS record when discontinued.",
    "DCUTDT": "The data cut-off date of the analysis; no record after it is used. Null "
              "when the analysis has no cut-off (all data as collected).",
    "ADT": "Date of the assessment or of the event or censoring record.",
    "ADY": "ADT - TRTSDT + 1 on or after TRTSDT, ADT - TRTSDT before.",
    "ANL01FL": "Y on OVR assessments after TRTSDT up to the first progression and before any "
               "HSCT or new anticancer therapy (the assessments best response uses).",
    "ANL02FL": "Y on evaluable (not NE) OVR assessments after TRTSDT (adequate assessments).",
    "ASEQ": "1..n per subject after sorting by the dataset's keys (PARAMCD, then ADT).",
    "TRTA": "ADSL.TRT01A (a single treatment period).",
    "TRTAN": "ADSL.TRT01AN (a single treatment period).",
    "AVISIT": "The visit of the assessment (RS.VISIT); blank on the per-subject parameters.",
    "AVISITN": "The number of the visit of the assessment (RS.VISITNUM).",
    "STARTDT": "The parameter's start date (adam.yaml parameters.<PARAMCD>.start).",
    "CNSR": "0 for an event; the configured censoring value of the source otherwise.",
    "EVNTDESC": "Description of the event source.", "CNSDTDSC": "Description of the censoring "
                                                                "source.",
    "SRCDOM": "Dataset of the record the date comes from.", "SRCVAR": "Its variable.",
    "SRCSEQ": "Its --SEQ or ASEQ.",
}


@dataclass
class AdamResult:
    datasets: dict[str, Dataset]
    rates: list[tuple[str, str, int, int, float, float, float]]  # name, population flag, ...
    analyses: tuple = ()  # cdisc.adam.config.Analysis: define.xml Analysis Results Metadata
    safety_tables: tuple = ()  # cdisc.adam.safety_tables.Table: the CSR safety summary
    safety_notes: tuple = ()


def _spec_codelist(specs: Specs, name: str, var: str, meta) -> str | None:  # type: ignore[no-untyped-def]
    """The CT codelist the IG (or, for a copy of DM, the SDTMIG) gives the variable; a flag
    (--FL) takes No Yes Response."""
    source = meta.predecessor.split(".")[0] if meta.predecessor else name
    dataset = specs.dataset(source if source in specs.datasets else name)
    code = dataset.variable(var).codelist if dataset.has_variable(var) else None
    if not code and var.endswith("FL") and meta.type == "Char":
        code = NY
    return code if code in specs.codelists else None


def _to_dataset(name: str, df: pd.DataFrame, order: list[str], specs: Specs, keys: tuple,
                structure: str, label: str, config: AdamConfig | None = None) -> Dataset:
    texts = variable_texts(name, config, df) if config is not None else {}
    cols, data = [], {}
    for var in order:
        if var not in df.columns:
            continue
        meta = adam_variable(specs, name, var)
        values = df[var]
        fmt = None
        if pd.api.types.is_datetime64_any_dtype(values):
            values = dates.sas_datetime(values) if var in DATETIMES else dates.sas_date(values)
            fmt = "DATETIME20." if var in DATETIMES else "DATE9."
        # a Series, not its array: a frame made of object arrays turns text into pandas' str
        # dtype, which make_dataset would only turn back
        data[var] = values.reset_index(drop=True)
        origin = Origin("Predecessor", description=meta.predecessor) if meta.predecessor \
            else Origin("Derived")
        if name == "ADSL" and var in DM_VARIABLES:  # copied from DM as is
            origin = Origin("Predecessor", description=f"DM.{var}")
        parent = ADAM_PARENT.get(name)
        if parent and specs.dataset(parent).has_variable(var):  # copied from its SDTM record
            origin = Origin("Predecessor", description=f"{parent}.{var}")
        if var in ("STUDYID", "USUBJID") or var in ADSL_CARRIED and name != "ADSL":
            origin = Origin("Predecessor", description=f"ADSL.{var}")
        text = texts.get(var, VariableText())
        origin = text.origin or origin
        method = (text.method or METHODS.get(var)) if origin.type == "Derived" else None
        if origin.type == "Derived" and not method:
            raise SpecError(f"{name}.{var} is derived but has no method for define.xml")
        codelist = text.codelist or _spec_codelist(specs, name, var, meta)
        cols.append(Column(var, meta.label, meta.type, display_format=fmt, origin=origin,
                           method=method, core=meta.core, codelist=codelist,
                           value_codelists=text.value_codelists,
                           value_methods=text.value_methods))
    spec = specs.dataset(name)
    return make_dataset(name, label or spec.label, cols, pd.DataFrame(data, copy=False), specs,
                        keys=keys, dataset_class=spec.dataset_class, structure=structure,
                        standard="ADaMIG")


SUPPLEMENTAL = ("SUPPDM", "SUPPAE")


def kinetics_datasets(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, specs: Specs,
                      config: AdamConfig) -> dict[str, Dataset]:
    """ADPC from SDTM PC and ADPP from SDTM PP, when the study has them."""
    out = {}
    if not sdtm["PC"].empty:
        adpc = build_adpc(sdtm["PC"], adsl)
        out["ADPC"] = _to_dataset("ADPC", adpc, list(adpc.columns), specs,
                                  ("STUDYID", "USUBJID", "ASEQ"),
                                  "One record per subject per parameter per sample", "", config)
    if not sdtm["PP"].empty:
        adpp = build_adpp(sdtm["PP"], adsl)
        out["ADPP"] = _to_dataset("ADPP", adpp, list(adpp.columns), specs,
                                  ("STUDYID", "USUBJID", "ASEQ"),
                                  "One record per subject per parameter", "", config)
    return out


def actual_treatment(carried: pd.DataFrame) -> pd.DataFrame:
    """TRTA/TRTAN of BDS records: the actual treatment of the single period (TRT01A/TRT01AN);
    TRT01AN is carried only to make TRTAN."""
    out = carried.assign(TRTA=carried["TRT01A"]) if "TRT01A" in carried else carried
    if "TRT01AN" in carried:
        out = out.assign(TRTAN=carried["TRT01AN"]).drop(columns="TRT01AN")
    return out


def adae_order(spec: AdverseEvents) -> list[str]:
    """ADAE_ORDER with the configured variables: period flags after TRTEMFL, pooled groups
    after ARELN, special-interest names at the end."""
    order = list(ADAE_ORDER)
    flags = [f.name for f in spec.period_flags if f.name not in order]
    at = order.index("TRTEMFL") + 1
    order[at:at] = flags
    groups = [v for name in spec.groups for v in (name, f"{name}N") if v not in order]
    at = order.index("ARELN") + 1
    order[at:at] = groups
    return order + [f"CQ{i:02d}NAM" for i in range(1, len(spec.special_interest) + 1)]


def adsl_order(adsl: pd.DataFrame) -> list[str]:
    """ADSL_ORDER, then the variables the configuration adds (first dates, populations, ...)
    in the order they were derived."""
    return ADSL_ORDER + [c for c in adsl.columns if c not in ADSL_ORDER]


def derive_adam(sdtm_dir: Path, config: AdamConfig, cutoff: str | None) -> AdamResult:
    return derive_from_sdtm(read_sdtm(sdtm_dir, (*DOMAINS, *SUPPLEMENTAL)), config, cutoff)


def derive_from_sdtm(sdtm: dict[str, pd.DataFrame], config: AdamConfig,
                     cutoff: str | None) -> AdamResult:
    """ADSL, ADRS, ADTTE from SDTM tables (a pure function of its inputs)."""
    specs = load_specs()
    sdtm = {name: sdtm.get(name, pd.DataFrame(columns=["USUBJID"]))
            for name in (*DOMAINS, *SUPPLEMENTAL)}
    sdtm = apply_cutoff(sdtm, cutoff)
    cut = pd.Timestamp(cutoff) if cutoff else None
    adsl = build_adsl(sdtm, config, cut)
    response = config.get("response")
    adrs = build_adrs(adsl, sdtm["RS"], dict(response)) if response else \
        pd.DataFrame(columns=["USUBJID", "PARAMCD", "AVALC", "ADT", "ASEQ", "TRTSDT"])
    for name, spec in dict((response or {}).get("adsl") or {}).items():
        values = by_subject(adsl["USUBJID"], subject_values(adrs, spec))
        adsl[name] = values if pd.api.types.is_datetime64_any_dtype(values) else \
            values.fillna("")
    for p in config.parameters:
        if p.start not in adsl.columns:
            raise SpecError(f"parameters.{p.paramcd}.start: {p.start} is not an ADSL variable",
                            file=str(config.path))
    adtte = build_adtte(config.parameters, adsl, adrs, sdtm)
    carried = actual_treatment(adsl[["STUDYID", "USUBJID",
                                     *[c for c in (*ADSL_CARRIED, "TRT01AN") if c in adsl]]])
    adrs = carried.merge(adrs.drop(columns=["TRTSDT"], errors="ignore"), on="USUBJID",
                         how="right")
    adtte = carried.merge(adtte, on="USUBJID", how="right")
    datasets = {
        "ADSL": _to_dataset("ADSL", adsl.sort_values("USUBJID"), adsl_order(adsl), specs,
                            ("STUDYID", "USUBJID"), "One record per subject", "", config),
        "ADTTE": _to_dataset("ADTTE", adtte, ADTTE_ORDER, specs,
                             ("STUDYID", "USUBJID", "PARAMCD"),
                             "One record per subject per parameter", "", config),
    }
    if config.adverse_events is not None and not sdtm["AE"].empty:
        adae = build_adae(adsl, sdtm["AE"], sdtm["SUPPAE"], config.adverse_events)
        datasets["ADAE"] = _to_dataset("ADAE", adae, adae_order(config.adverse_events), specs,
                                       ("STUDYID", "USUBJID", "AESEQ"),
                                       "One record per subject per adverse event", "", config)
    datasets.update(kinetics_datasets(sdtm, adsl, specs, config))
    rates = []
    if response:
        datasets["ADRS"] = _to_dataset("ADRS", adrs, ADRS_ORDER, specs,
                                       ("STUDYID", "USUBJID", "PARAMCD", "ADT", "ASEQ"),
                                       "One record per subject per parameter per analysis date",
                                       "", config)
        population = pd.Index(response_population(adsl, response)["USUBJID"])
        rates = [(str(spec["rate"]), str(response["population"]),
                  *response_rate(adrs, str(code), population))
                 for code, spec in (response.get("subject_parameters") or {}).items()
                 if spec.get("rate")]
    tables, notes = (), ()
    spec = config.adverse_events
    if spec is not None and spec.tables and "ADAE" in datasets:
        tables = tuple(safety_tables(datasets["ADSL"].data, datasets["ADAE"].data, spec.tables))
        notes = tuple(table_notes(spec.tables))
    # an analysis dataset without records is not submitted (e.g. ADTTE before any infusion)
    return AdamResult({k: v for k, v in datasets.items() if not v.data.empty}, rates,
                      tuple(config.analyses), tables, notes)


def run_adam(sdtm_dir: Path, config_path: Path, cutoff: str | None,
             sdtm: dict[str, pd.DataFrame] | None = None) -> AdamResult:
    """ADaM from the SDTM files in sdtm_dir, or from `sdtm`, the same tables in memory."""
    config = load_config(config_path)
    cutoff = cutoff or config.data_cutoff
    if sdtm is None:
        return derive_adam(sdtm_dir, config, cutoff)
    return derive_from_sdtm(sdtm, config, cutoff)


def rate_lines(result: AdamResult) -> list[str]:
    return [f"{name} ({flag} = Y): {x}/{n} = {rate:.1%} "
            f"(95% CI {lo:.1%} to {hi:.1%}, exact Clopper-Pearson)"
            for name, flag, x, n, rate, lo, hi in result.rates if n]
