"""What define.xml says about each ADaM variable, written from the ADaM configuration: the
method a statistician reads (each time-to-event parameter's start, events and censoring
reasons with their CNSR values), the codelists of coded and flag variables (PARAMCD with its
PARAM, CNSR per parameter with a decode per reason, AGEGR1, response values) and the
variables copied from SDTM (Predecessor). Nothing here points at the tool's own files."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cdisc.adam import adpc, adpp
from cdisc.adam.adrs import assessment_parameter, parameter_names
from cdisc.adam.config import AdamConfig, EventGroup, Parameter, PeriodFlag, Source
from cdisc.model import Origin, SponsorCodelist

NY = "C66742"  # CDISC CT No Yes Response
ONCRSR = "C96785"  # CDISC CT Oncology Response Assessment Result
# ADRS variables copied from the RS record of the assessment
RS_COPIES = {"VISIT": "RS.VISIT", "VISITNUM": "RS.VISITNUM", "RSSEQ": "RS.RSSEQ"}
# ADPC variables copied from the PC record of the sample
PC_COPIES = {"ATPT": "PC.PCTPT", "ATPTN": "PC.PCTPTNUM", "ATPTREF": "PC.PCTPTREF",
             "AVISIT": "PC.VISIT", "AVISITN": "PC.VISITNUM"}


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
    if src.without is not None:
        return (f"{_plain_source_text(src)}, when no ADRS record where "
                f"{_where_text(src.without.where)} is dated within {src.without.days} days of "
                "STARTDT")
    return _plain_source_text(src)


def _plain_source_text(src: Source) -> str:
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
    return text


def cnsr_codelist(p: Parameter) -> SponsorCodelist:
    """The CNSR values of one parameter with their reasons (0 = the events)."""
    items = {"0": "EVENT: " + " OR ".join(e.description for e in p.events)}
    for c in p.censors:
        items.setdefault(str(c.cnsr), c.description)
    for c in p.censor_at:
        items.setdefault(str(int(c["cnsr"])), str(c.get("description", "")))
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


def _subject_parameter_text(code: str, spec: dict, assessment: str) -> str:
    if spec.get("best"):
        return (f"{code}: the best {assessment} among the records with ANL01FL = Y, dated at "
                "its first occurrence (NE when there is none)")
    return (f"{code}: Y when an ANL01FL record is {' or '.join(map(str, spec['achieved']))},"
            " dated at the first such record, else N")


def _response_texts(config: AdamConfig) -> dict[str, str]:
    response = dict(config.get("response") or {})
    if not response:
        return {}
    assessment, _ = assessment_parameter(response)
    subject = dict(response.get("subject_parameters") or {})
    hierarchy = list(response.get("hierarchy", []))
    ranks = ", ".join(f"{i} = {v}" for i, v in enumerate(hierarchy, 1))
    where = _where_text(response.get("where", {}))
    stop = ", ".join(f"ADSL.{s}" for s in response.get("stop_at", []))
    best = [c for c, p in subject.items() if p.get("best")]
    achieved = [c for c, p in subject.items() if not p.get("best")]
    population = response.get("population")
    return {
        "PARAMCD": "; ".join([f"{assessment}: one record per response assessment "
                              f"({response.get('dataset', 'RS')} where {where}, result "
                              f"{response.get('variable', 'RSSTRESC')})"] +
                             [_subject_parameter_text(c, p, assessment)
                              for c, p in subject.items()]) +
                   (f"; the per-subject parameters are for the subjects with {population} = Y."
                    if subject else "."),
        "AVAL": f"{' and '.join([assessment, *best])}: rank of AVALC in the response hierarchy "
                f"({ranks})" + (f"; {' and '.join(achieved)}: 1 = Y, 0 = N." if achieved
                                else "."),
        "AVALC": f"{assessment}: {response.get('dataset', 'RS')}."
                 f"{response.get('variable', 'RSSTRESC')} of the assessment" +
                 "".join(f"; {c}: the AVALC of the best-ranked {assessment} record with "
                         "ANL01FL = Y" for c in best) +
                 (f"; {' and '.join(achieved)}: Y or N." if achieved else "."),
        "ANL01FL": f"Y on {assessment} records after TRTSDT, up to and including the first "
                   f"{' or '.join(response.get('progression', []))}"
                   + (f", and before {stop}" if stop else "") +
                   " (the assessments best overall response uses).",
    }


def adsl_texts(config: AdamConfig) -> dict[str, VariableText]:
    text, groups, numbers = _age_groups(config)
    treatment = dict(config.get("treatment") or {})
    exposure = treatment.get("exposure") or {}
    out = {
        "AGEGR1": VariableText(method=text or None, codelist=groups),
        "AGEGR1N": VariableText(method="Order of AGEGR1: " + "; ".join(
            f"{c} = {d}" for c, d in numbers.items) + "." if numbers else None,
            codelist=numbers),
        "TRTSDTM": VariableText(method=f"First EXSTDTC of the {exposure.get('dataset', 'EX')} "
                                f"records where {_where_text(exposure.get('where', {}))}."),
    }
    for name, spec in (config.get("first_dates") or {}).items():
        where = _where_text(spec.get("where", {}))
        out[name] = VariableText(method=f"Date of the first complete {spec['dataset']}."
                                 f"{spec['date']}" + (f" where {where}." if where else "."))
    out.update(_population_texts(config))
    out.update(_treatment_texts(config))
    out.update(_death_within_texts(config))
    response = dict(config.get("response") or {})
    for name, spec in (response.get("adsl") or {}).items():
        where = _where_text(spec.get("where") or {})
        out[name] = VariableText(method=f"{spec['variable']} of the ADRS record with PARAMCD "
                                 f"= {spec['parameter']}" + (f" and {where}." if where else "."))
    for name, spec in (config.get("intercurrent") or {}).items():
        out[name] = VariableText(method=f"First {spec['dataset']}.{spec['date']} on or after "
                                 f"TRTSDT where {_where_text(spec.get('where', {}))}.")
    evidence = "; ".join(f"{e['dataset']}.{e['date']}" + (
        f" where {_where_text(e['where'])}" if e.get("where") else "")
        for e in config.get("alive_evidence") or [])
    out["LSTALVDT"] = VariableText(method="Latest complete date among " + evidence +
                                   " and TRTEDT, never after the data cut-off.")
    return out


def _population_texts(config: AdamConfig) -> dict[str, VariableText]:
    out = {}
    for name, rule in (config.get("populations") or {}).items():
        parts = [f"{v} is populated" for v in rule.get("populated") or []]
        if rule.get("any_populated"):
            parts.append(f"any of {', '.join(rule['any_populated'])} is populated")
        if rule.get("assessed_after"):
            parts.append(f"a response assessment is dated after {rule['assessed_after']}")
        out[name] = VariableText(method=f"Y when {' and '.join(parts)}, else N.")
    return out


def _treatment_texts(config: AdamConfig) -> dict[str, VariableText]:
    order = list(dict(config.get("treatment") or {}).get("arm_order") or [])
    if not order:
        return {}
    ranks = "; ".join(f"{i} = {code}" for i, code in enumerate(order, 1))
    return {"TRT01PN": VariableText(method=f"Position of ARMCD in the dose cohorts: {ranks}."),
            "TRT01AN": VariableText(method=f"Position of ACTARMCD in the dose cohorts: "
                                    f"{ranks}.")}


def _death_within_texts(config: AdamConfig) -> dict[str, VariableText]:
    death = dict(config.get("death") or {})
    start = death.get("within_days_from", "TRTSDT")
    return {name: VariableText(method=f"Y when DTHDT - {start} <= {days} days, N when {start} "
                               f"is populated and there is no such death, else blank.")
            for name, days in (death.get("within_days") or {}).items()}


def adrs_texts(config: AdamConfig, adrs: pd.DataFrame) -> dict[str, VariableText]:
    texts = _response_texts(config)
    hierarchy = list(dict(config.get("response") or {}).get("hierarchy", []))
    rank = SponsorCodelist("CL.ADRS.AVAL.RESPONSE", "Response Rank", "integer",
                           tuple((str(i), v) for i, v in enumerate(hierarchy, 1)))
    yes_no = SponsorCodelist("CL.ADRS.AVAL.NY", "Achieved (1 = Y, 0 = N)", "integer",
                             (("0", "N"), ("1", "Y")))
    response = dict(config.get("response") or {})
    paramcd = _sponsor("CL.ADRS.PARAMCD", "ADRS Parameter Code", adrs.get(
        "PARAMCD", pd.Series(dtype=object)), parameter_names(response))
    ranked = [assessment_parameter(response)[0]]
    ranked += [c for c, p in (response.get("subject_parameters") or {}).items() if p.get("best")]
    achieved = [c for c, p in (response.get("subject_parameters") or {}).items()
                if not p.get("best")]
    out = {
        "PARAMCD": VariableText(method=texts.get("PARAMCD"), codelist=paramcd),
        "PARAM": VariableText(origin=Origin("Assigned"), codelist=_sponsor(
            "CL.ADRS.PARAM", "ADRS Parameter", adrs.get("PARAM", pd.Series(dtype=object)))),
        "AVAL": VariableText(method=texts.get("AVAL"), value_codelists=tuple(
            [(c, rank) for c in ranked] + [(c, yes_no) for c in achieved])),
        "AVALC": VariableText(method=texts.get("AVALC"), value_codelists=tuple(
            [(c, ONCRSR) for c in ranked] + [(c, NY) for c in achieved])),
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
        "AVAL": VariableText(method="ADT - STARTDT + 1 (days).", value_methods=per_parameter),
        "EVNTDESC": VariableText(codelist=descriptions["EVNTDESC"]),
        "CNSDTDSC": VariableText(codelist=descriptions["CNSDTDSC"]),
    }


def _period_text(flag: PeriodFlag) -> str:
    text = f"Y when ASTDT is on or after ADSL.{flag.start}"
    if flag.before:
        text += f" and before ADSL.{flag.before} (when the subject has it)"
    if flag.days_after:
        text += f" and no more than {flag.days_after[1]} days after ADSL.{flag.days_after[0]}"
    return text + ", else blank."


def _group_text(name: str, rules: list) -> str:
    parts = [f"{rule.value} when {_where_text(rule.where) or 'no rule above applies'}"
             for rule in rules]
    return f"{name}: the first that holds of: " + "; ".join(parts) + \
        "; blank when none does."


def _special_interest_text(group: EventGroup) -> str:
    text = f"{group.name} when {_where_text(group.where)}"
    if group.min_grade is not None:
        text += f" and ATOXGRN >= {group.min_grade:g}"
    if group.present_on_day is not None:
        text += (f" and the event is present on day {group.present_on_day} (ASTDY <= "
                 f"{group.present_on_day} and AENDY >= {group.present_on_day} or no end date)")
    return text + ", else blank."


def _bounds(names: tuple[str, ...], word: str) -> str:
    return (f"; when ADSL.{' or ADSL.'.join(names)} lies within the range the partial date "
            f"allows, the imputed date is not {word} it") if names else ""


def adae_texts(config: AdamConfig) -> dict[str, VariableText]:
    spec = config.adverse_events
    if spec is None:
        return {}
    ranks = "; ".join(f"{i} = {v}" for i, v in enumerate(spec.causality_order, 1))
    among = spec.occurrence_among
    first = (f"Among the records with {among} = Y, sorted by USUBJID, ASTDT and AESEQ: Y on "
             "the first record")
    worst = (f"Among the records with {among} = Y, sorted by USUBJID, ATOXGRN descending, "
             "ASTDT and AESEQ: Y on the first record (the first occurrence of the highest "
             "grade)")
    out = {
        "ASTDT": VariableText(method="AESTDTC as a date; a missing day is imputed to the first "
                              "of the month, a missing month to 1 January (a missing year is "
                              "not imputed)" + _bounds(spec.onset_not_before, "before") + "."),
        "ASTDTF": VariableText(method="D when the day of ASTDT was imputed, M when the month "
                               "and day were, else blank."),
        "AENDT": VariableText(method="AEENDTC as a date; a missing day is imputed to the last "
                              "day of the month, a missing month to 31 December (a missing "
                              "year is not imputed)" + _bounds(spec.end_not_after, "after") +
                              "."),
        "AENDTF": VariableText(method="D when the day of AENDT was imputed, M when the month "
                               "and day were, else blank."),
        "ASTDY": VariableText(method=f"ASTDT - ADSL.{spec.reference} + 1 on or after it, ASTDT "
                              f"- ADSL.{spec.reference} before."),
        "AENDY": VariableText(method=f"AENDT - ADSL.{spec.reference} + 1 on or after it, AENDT "
                              f"- ADSL.{spec.reference} before."),
        "ADURN": VariableText(method="AENDT - ASTDT + 1 when both are known."),
        "ADURU": VariableText(method="DAYS when ADURN is populated."),
        "AREL": VariableText(method=f"{spec.causality_variable}; "
                             + (f"{spec.causality_missing} when no causality was recorded."
                                if spec.causality_missing else "blank when none was recorded.")),
        "ARELN": VariableText(method=f"Order of AREL: {ranks}."),
        "AERELN": VariableText(method=f"Order of {spec.causality_variable}: {ranks}."),
        "ATOXGR": VariableText(method=f"{spec.grade_variable} as collected (not imputed)" + (
            f"; the grading scale of the record is in {spec.grade_scale}." if spec.grade_scale
            else ".")),
        "ATOXGRN": VariableText(method="ATOXGR as a number."),
        "AETOXGRN": VariableText(method=f"{spec.grade_variable} as a number."),
        "AOCCFL": VariableText(method=f"{first} of each subject."),
        "AOCCSFL": VariableText(method=f"{first} of each subject and AEBODSYS."),
        "AOCCPFL": VariableText(method=f"{first} of each subject, AEBODSYS and AEDECOD."),
        "AOCCIFL": VariableText(method=f"{worst} of each subject."),
        "AOCCSIFL": VariableText(method=f"{worst} of each subject and AEBODSYS."),
        "AOCCPIFL": VariableText(method=f"{worst} of each subject, AEBODSYS and AEDECOD."),
    }
    for qnam in spec.supplemental:
        out[qnam] = VariableText(origin=Origin("Predecessor",
                                               description=f"SUPPAE.QVAL where QNAM = {qnam}"))
    for flag in spec.period_flags:
        out[flag.name] = VariableText(method=_period_text(flag))
    for name, rules in spec.groups.items():
        out[name] = VariableText(method=_group_text(name, rules))
        out[f"{name}N"] = VariableText(method=f"Order of {name}: " + "; ".join(
            f"{i} = {rule.value}" for i, rule in enumerate(rules, 1)) + ".")
    for i, group in enumerate(spec.special_interest, start=1):
        out[f"CQ{i:02d}NAM"] = VariableText(method=_special_interest_text(group))
    return out


def variable_texts(name: str, config: AdamConfig, frame: pd.DataFrame) -> dict[str, VariableText]:
    """The overrides of one ADaM dataset's variables."""
    if name == "ADSL":
        return adsl_texts(config)
    if name == "ADRS":
        return adrs_texts(config, frame)
    if name == "ADTTE":
        return adtte_texts(config, frame)
    if name == "ADAE":
        return adae_texts(config)
    if name in ("ADPC", "ADPP"):
        methods = (adpc if name == "ADPC" else adpp).METHODS
        out = {var: VariableText(method=text) for var, text in methods.items()}
        if name == "ADPC":
            out.update({var: VariableText(origin=Origin("Predecessor", description=source))
                        for var, source in PC_COPIES.items()})
            out.update({unit: VariableText(method=f"DAYS when {unit[:-1]} is populated.")
                        for unit in ("ARELTMU", "NRELTMU")})
        return out
    return {}
