"""What define.xml says about each ADaM variable, written from the ADaM configuration: the
method a statistician reads (each time-to-event parameter's start, events and censoring
reasons with their CNSR values), the codelists of coded and flag variables (PARAMCD with its
PARAM, CNSR per parameter with a decode per reason, AGEGR1, response values) and the
variables copied from SDTM (Predecessor). Nothing here points at the tool's own files."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cdisc.adam.adrs import PARAMS as RESPONSE_PARAMS
from cdisc.adam.config import AdamConfig, Parameter, Source
from cdisc.model import Origin, SponsorCodelist

NY = "C66742"  # CDISC CT No Yes Response
ONCRSR = "C96785"  # CDISC CT Oncology Response Assessment Result
# ADRS variables copied from the RS record of the assessment
RS_COPIES = {"VISIT": "RS.VISIT", "VISITNUM": "RS.VISITNUM", "RSSEQ": "RS.RSSEQ"}


@dataclass(frozen=True)
class VariableText:
    """Overrides of one variable's define metadata (None: keep the default)."""

    origin: Origin | None = None
    method: str | None = None
    codelist: str | SponsorCodelist | None = None
    value_codelists: tuple[tuple[str, str | SponsorCodelist], ...] = ()
    value_methods: tuple[tuple[str, str], ...] = ()


def _where_text(where: dict) -> str:
    parts = []
    for var, wanted in (where or {}).items():
        if isinstance(wanted, list):
            parts.append(f"{var} in {', '.join(map(str, wanted))}")
        else:
            parts.append(f"{var} = {wanted}")
    return " and ".join(parts)


def _source_text(src: Source) -> str:
    """Where a source's date comes from: 'ADRS (PARAMCD = OVR and AVALC in PD, ...).ADT'."""
    if src.source == "START":
        return "the start date"
    where = _where_text(src.where)
    if src.source == "ADSL":
        return f"ADSL.{src.date}"
    date = "ADT" if src.source == "ADRS" else src.date
    return f"{src.source}.{date}" + (f" where {where}" if where else "")


def parameter_method(p: Parameter) -> str:
    """The parameter as a statistical analysis plan states it."""
    events = "; ".join(f"{e.description} ({_source_text(e)})" for e in p.events)
    censors = "; ".join(f"CNSR = {c.cnsr}: {c.description} ({_source_text(c)}"
                        f"{', the latest such date' if c.source not in ('START', 'ADSL') else ''})"
                        for c in p.censors)
    text = (f"{p.paramcd} ({p.param}): from STARTDT = ADSL.{p.start}, AVAL = ADT - STARTDT + 1 "
            f"days. Event (CNSR = 0): the earliest on or after STARTDT of {events}. Without an "
            f"event, censored at the latest of: {censors}.")
    if p.censor_at:
        stops = "; ".join(f"ADSL.{c['date']} (CNSR = {c['cnsr']}: {c.get('description', '')})"
                          for c in p.censor_at)
        text += (" Events and censoring dates after the first of these are not used, and a "
                 f"subject censored after it takes its CNSR: {stops}.")
    return text + (" A subject with no event and no censoring date is censored at STARTDT "
                   "(CNSR = 1, NO ASSESSMENT AFTER START) unless a date above applies.")


def cnsr_codelist(p: Parameter) -> SponsorCodelist:
    """The CNSR values of one parameter with their reasons (0 = the events)."""
    items = {"0": "EVENT: " + " OR ".join(e.description for e in p.events)}
    for c in p.censors:
        items.setdefault(str(c.cnsr), c.description)
    for c in p.censor_at:
        items.setdefault(str(int(c["cnsr"])), str(c.get("description", "")))
    items.setdefault("1", "NO ASSESSMENT AFTER START")
    return SponsorCodelist(f"CL.ADTTE.CNSR.{p.paramcd}", f"Censoring for {p.paramcd}",
                           "integer", tuple(sorted(items.items(), key=lambda kv: int(kv[0]))))


def _sponsor(oid: str, name: str, values: pd.Series, decodes: dict | None = None,
             data_type: str = "text") -> SponsorCodelist | None:
    present = sorted({str(v) for v in values.dropna().unique()} - {"", "nan"})
    if not present:
        return None
    return SponsorCodelist(oid, name, data_type,
                           tuple((v, (decodes or {}).get(v, "")) for v in present))


def _age_groups(config: AdamConfig) -> tuple[str, SponsorCodelist | None, SponsorCodelist | None]:
    groups = list(config.get("age_groups") or [])
    parts = []
    for g in groups:
        low, high = g.get("min"), g.get("max")
        rule = (f"{low} <= AGE <= {high}" if low is not None and high is not None else
                f"AGE >= {low}" if low is not None else f"AGE <= {high}")
        parts.append(f"{g['label']} ({rule})")
    text = "Age group of AGE (years): " + "; ".join(parts) + "." if parts else ""
    if not groups:
        return text, None, None
    labels = SponsorCodelist("CL.AGEGR1", "Pooled Age Group 1", "text",
                             tuple((str(g["label"]), "") for g in groups))
    numbers = SponsorCodelist("CL.AGEGR1N", "Pooled Age Group 1 (N)", "integer",
                              tuple((str(i), str(g["label"])) for i, g in enumerate(groups, 1)))
    return text, labels, numbers


def _response_texts(config: AdamConfig) -> dict[str, str]:
    response = dict(config.get("response") or {})
    if not response:
        return {}
    hierarchy = list(response.get("hierarchy", []))
    ranks = ", ".join(f"{i} = {v}" for i, v in enumerate(hierarchy, 1))
    where = _where_text(response.get("where", {}))
    stop = ", ".join(f"ADSL.{s}" for s in response.get("stop_at", []))
    return {
        "PARAMCD": (f"OVR: one record per response assessment ({response.get('dataset', 'RS')}"
                    f" where {where}, result {response.get('variable', 'RSSTRESC')}); BOR: the "
                    "best OVR among the records with ANL01FL = Y, dated at its first "
                    f"occurrence (NE when there is none); CRCRI: Y when an ANL01FL record is "
                    f"{' or '.join(response.get('responders', []))}, dated at the first; ORR: Y "
                    f"when an ANL01FL record is {', '.join(response.get('overall_responders', []))}."),
        "AVAL": f"OVR and BOR: rank of AVALC in the response hierarchy ({ranks}); CRCRI and "
                "ORR: 1 = Y, 0 = N.",
        "AVALC": f"OVR: {response.get('dataset', 'RS')}."
                 f"{response.get('variable', 'RSSTRESC')} of the assessment; BOR: the AVALC "
                 "of the best-ranked OVR record with ANL01FL = Y; CRCRI and ORR: Y or N.",
        "ANL01FL": "Y on OVR records after TRTSDT, up to and including the first "
                   f"{' or '.join(response.get('progression', []))}"
                   + (f", and before {stop}" if stop else "") +
                   " (the assessments best overall response uses).",
    }


def adsl_texts(config: AdamConfig) -> dict[str, VariableText]:
    text, groups, numbers = _age_groups(config)
    treatment = dict(config.get("treatment") or {})
    exposure = treatment.get("exposure") or {}
    lympho = treatment.get("lymphodepletion") or {}
    out = {
        "AGEGR1": VariableText(method=text or None, codelist=groups),
        "AGEGR1N": VariableText(method="Order of AGEGR1: " + "; ".join(
            f"{c} = {d}" for c, d in numbers.items) + "." if numbers else None,
            codelist=numbers),
        "TRTSDTM": VariableText(method=f"First EXSTDTC of the {exposure.get('dataset', 'EX')} "
                                f"records where {_where_text(exposure.get('where', {}))}."),
        "LDSTDT": VariableText(method=f"Date of the first EXSTDTC of the "
                               f"{lympho.get('dataset', 'EX')} records where "
                               f"{_where_text(lympho.get('where', {}))}.") if lympho else
        VariableText(),
    }
    for name, spec in (config.get("intercurrent") or {}).items():
        out[name] = VariableText(method=f"First {spec['dataset']}.{spec['date']} on or after "
                                 f"TRTSDT where {_where_text(spec.get('where', {}))}.")
    evidence = "; ".join(f"{e['dataset']}.{e['date']}" + (
        f" where {_where_text(e['where'])}" if e.get("where") else "")
        for e in config.get("alive_evidence") or [])
    out["LSTALVDT"] = VariableText(method="Latest complete date among " + evidence +
                                   " and TRTEDT, never after the data cut-off.")
    return out


def adrs_texts(config: AdamConfig, adrs: pd.DataFrame) -> dict[str, VariableText]:
    texts = _response_texts(config)
    hierarchy = list(dict(config.get("response") or {}).get("hierarchy", []))
    rank = SponsorCodelist("CL.ADRS.AVAL.RESPONSE", "Response Rank", "integer",
                           tuple((str(i), v) for i, v in enumerate(hierarchy, 1)))
    yes_no = SponsorCodelist("CL.ADRS.AVAL.NY", "Achieved (1 = Y, 0 = N)", "integer",
                             (("0", "N"), ("1", "Y")))
    paramcd = _sponsor("CL.ADRS.PARAMCD", "ADRS Parameter Code", adrs.get(
        "PARAMCD", pd.Series(dtype=object)), RESPONSE_PARAMS)
    out = {
        "PARAMCD": VariableText(method=texts.get("PARAMCD"), codelist=paramcd),
        "PARAM": VariableText(origin=Origin("Assigned"), codelist=_sponsor(
            "CL.ADRS.PARAM", "ADRS Parameter", adrs.get("PARAM", pd.Series(dtype=object)))),
        "AVAL": VariableText(method=texts.get("AVAL"), value_codelists=(
            ("OVR", rank), ("BOR", rank), ("CRCRI", yes_no), ("ORR", yes_no))),
        "AVALC": VariableText(method=texts.get("AVALC"), value_codelists=(
            ("OVR", ONCRSR), ("BOR", ONCRSR),
                                               ("CRCRI", NY), ("ORR", NY))),
        "ANL01FL": VariableText(method=texts.get("ANL01FL")),
    }
    out.update({var: VariableText(origin=Origin("Predecessor", description=source))
                for var, source in RS_COPIES.items()})
    return out


def adtte_texts(config: AdamConfig, adtte: pd.DataFrame) -> dict[str, VariableText]:
    params = list(config.parameters)
    per_parameter = tuple((p.paramcd, parameter_method(p)) for p in params)
    methods = " ".join(text for _, text in per_parameter)
    paramcd = _sponsor("CL.ADTTE.PARAMCD", "ADTTE Parameter Code",
                       adtte.get("PARAMCD", pd.Series(dtype=object)),
                       {p.paramcd: p.param for p in params})
    descriptions = {var: _sponsor(f"CL.ADTTE.{var}", f"ADTTE {var}",
                                  adtte.get(var, pd.Series(dtype=object)))
                    for var in ("EVNTDESC", "CNSDTDSC")}
    return {
        "PARAMCD": VariableText(method=methods, codelist=paramcd),
        "PARAM": VariableText(origin=Origin("Assigned"), codelist=_sponsor(
            "CL.ADTTE.PARAM", "ADTTE Parameter", adtte.get("PARAM", pd.Series(dtype=object)))),
        "PARAMN": VariableText(method="Order of the parameter: " + "; ".join(
            f"{i} = {p.paramcd}" for i, p in enumerate(params, 1)) + "."),
        "STARTDT": VariableText(method="; ".join(f"{p.paramcd}: ADSL.{p.start}"
                                                 for p in params) + "."),
        "CNSR": VariableText(method=methods, value_codelists=tuple(
            (p.paramcd, cnsr_codelist(p)) for p in params), value_methods=per_parameter),
        "AVAL": VariableText(value_methods=per_parameter),
        "EVNTDESC": VariableText(codelist=descriptions["EVNTDESC"]),
        "CNSDTDSC": VariableText(codelist=descriptions["CNSDTDSC"]),
    }


def variable_texts(name: str, config: AdamConfig, frame: pd.DataFrame) -> dict[str, VariableText]:
    """The overrides of one ADaM dataset's variables."""
    if name == "ADSL":
        return adsl_texts(config)
    if name == "ADRS":
        return adrs_texts(config, frame)
    if name == "ADTTE":
        return adtte_texts(config, frame)
    return {}
