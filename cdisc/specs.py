"""Load specs/: dataset and variable metadata (SDTMIG v3.4, ADaMIG v1.3) and CDISC codelists.

This is the single source of truth for variable order, labels, types, core status, codelists and
dataset keys: the mapping engine, the XPT writer and define.xml all read it through ``load_specs``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from cdisc.errors import SpecError
from cdisc.paths import SPECS_DIR


@dataclass(frozen=True)
class VariableSpec:
    dataset: str
    order: int
    name: str
    label: str
    type: str  # "Char" or "Num"
    codelist: str | None  # NCI C-code of the codelist, when the IG names one
    value_domain: str  # e.g. "ISO 8601 datetime or interval"
    role: str
    core: str  # Req, Exp, Perm (ADaM also Cond)

    @property
    def is_numeric(self) -> bool:
        return self.type == "Num"

    @property
    def is_iso8601(self) -> bool:
        return self.value_domain.startswith("ISO 8601")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str
    dataset_class: str
    structure: str
    keys: tuple[str, ...]
    standard: str  # "SDTMIG" or "ADaMIG"
    variables: tuple[VariableSpec, ...]

    def variable(self, name: str) -> VariableSpec:
        for v in self.variables:
            if v.name == name:
                return v
        raise SpecError(f"variable {name} is not defined for dataset {self.name} in specs/")

    def has_variable(self, name: str) -> bool:
        return any(v.name == name for v in self.variables)

    @property
    def variable_names(self) -> list[str]:
        return [v.name for v in self.variables]


@dataclass(frozen=True)
class Term:
    code: str
    submission_value: str
    synonyms: tuple[str, ...]
    preferred_term: str


@dataclass(frozen=True)
class Codelist:
    code: str
    short_name: str  # e.g. "SEX"
    name: str  # e.g. "Sex"
    extensible: bool
    terms: dict[str, Term] = field(hash=False, compare=False)
    standard: str = "SDTM"

    def __contains__(self, value: object) -> bool:
        return value in self.terms


@dataclass(frozen=True)
class Specs:
    datasets: dict[str, DatasetSpec]
    codelists: dict[str, Codelist]
    standards: dict

    def dataset(self, name: str) -> DatasetSpec:
        name = name.upper()
        if name in self.datasets:
            return self.datasets[name]
        if name.startswith("SUPP") and len(name) <= 8 and "SUPPQUAL" in self.datasets:
            base = self.datasets["SUPPQUAL"]
            return DatasetSpec(name, f"Supplemental Qualifiers for {name[4:]}", base.dataset_class,
                               base.structure, base.keys, base.standard, base.variables)
        raise SpecError(f"dataset {name} is not defined in specs/ (known: {', '.join(self.datasets)})")

    def with_domain_variables(self, extra: dict[str, list[str]]) -> Specs:
        """These specs with model class variables added to some domains (see with_model_variables)."""
        missing = {name: names for name, names in extra.items()
                   if any(not self.dataset(name).has_variable(n) for n in names)}
        if not missing:  # already added (map_raw's specs handed to the engine)
            return self
        datasets = dict(self.datasets)
        for name, names in missing.items():
            datasets[name] = with_model_variables(self.dataset(name), names)
        return Specs(datasets=datasets, codelists=self.codelists, standards=self.standards)

    def codelist(self, code_or_name: str) -> Codelist:
        if code_or_name in self.codelists:
            return self.codelists[code_or_name]
        for cl in self.codelists.values():
            if cl.short_name == code_or_name:
                return cl
        raise SpecError(f"codelist {code_or_name} is not in specs/ct")


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise SpecError("spec file is missing", file=str(path))
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _load_datasets(folder: Path, standard: str) -> dict[str, DatasetSpec]:
    variables: dict[str, list[VariableSpec]] = {}
    for r in _read_csv(folder / "variables.csv"):
        variables.setdefault(r["dataset"], []).append(VariableSpec(
            dataset=r["dataset"], order=int(r["order"]), name=r["variable"], label=r["label"],
            type=r["type"], codelist=r["codelist"].split()[0] if r["codelist"] else None,
            value_domain=r["value_domain"], role=r["role"], core=r["core"]))
    out = {}
    for r in _read_csv(folder / "datasets.csv"):
        name = r["dataset"]
        out[name] = DatasetSpec(
            name=name, label=r["label"], dataset_class=r["class"], structure=r["structure"],
            keys=tuple(r["keys"].split()), standard=standard,
            variables=tuple(sorted(variables.get(name, []), key=lambda v: v.order)))
    return out


def _load_codelists(path: Path, standard: str) -> dict[str, Codelist]:
    rows = _read_csv(path)
    out: dict[str, Codelist] = {}
    for r in rows:
        code = r["codelist_code"]
        if code not in out:
            out[code] = Codelist(code=code, short_name=r["codelist"], name=r["codelist_name"],
                                 extensible=r["extensible"] == "Yes", terms={}, standard=standard)
        syn = tuple(s.strip() for s in r["synonyms"].split(";") if s.strip())
        out[code].terms[r["submission_value"]] = Term(r["term_code"], r["submission_value"], syn,
                                                      r["preferred_term"])
    return out


@lru_cache(maxsize=4)
def load_specs(specs_dir: Path = SPECS_DIR) -> Specs:
    """Read specs/ once per process."""
    datasets = _load_datasets(specs_dir / "sdtm", "SDTMIG")
    datasets.update(_load_datasets(specs_dir / "adam", "ADaMIG"))
    codelists = _load_codelists(specs_dir / "ct" / "sdtm_ct.csv", "SDTM")
    codelists.update(_load_codelists(specs_dir / "ct" / "adam_ct.csv", "ADaM"))
    codelists.update(_load_codelists(specs_dir / "ct" / "define_ct.csv", "DEFINE-XML"))
    with (specs_dir / "standards.yaml").open(encoding="utf-8") as fh:
        standards = yaml.safe_load(fh)
    return Specs(datasets=datasets, codelists=codelists, standards=standards)


@lru_cache(maxsize=4)
def load_unit_conversions(specs_dir: Path = SPECS_DIR) -> dict[tuple[str, str], tuple[str, float]]:
    """(LBTESTCD, collected unit) -> (standard unit, factor), from specs/lb_units.csv."""
    out = {}
    for r in _read_csv(specs_dir / "lb_units.csv"):
        out[(r["lbtestcd"], r["from_unit"])] = (r["to_unit"], float(r["factor"]))
    return out


@dataclass(frozen=True)
class ToxGrade:
    test: str
    direction: str  # "low" grades are [from, to); "high" grades are (from, to]
    grade: int
    low: tuple[float, str] | None  # (number, "" | "LLN" | "ULN"): number x reference
    high: tuple[float, str] | None


def _bound(text: str) -> tuple[float, str] | None:
    """'' -> None, '1.5' -> (1.5, ''), 'ULN' -> (1, 'ULN'), '3*ULN' -> (3, 'ULN')."""
    text = text.strip()
    if not text:
        return None
    if text in ("LLN", "ULN"):
        return 1.0, text
    if "*" in text:
        factor, ref = text.split("*", 1)
        if ref not in ("LLN", "ULN"):
            raise SpecError(f"bad CTCAE bound {text!r}")
        return float(factor), ref
    return float(text), ""


@lru_cache(maxsize=4)
def load_ctcae_grades(specs_dir: Path = SPECS_DIR) -> tuple[ToxGrade, ...]:
    """CTCAE lab grading criteria from specs/ctcae_lab.csv."""
    return tuple(ToxGrade(r["lbtestcd"], r["direction"], int(r["grade"]), _bound(r["from"]),
                          _bound(r["to"])) for r in _read_csv(specs_dir / "ctcae_lab.csv"))


_PLACEHOLDERS = {"y": r"([1-9])", "xx": r"(\d\d)", "zz": r"(\d\d)", "w": r"([1-9])"}


def _placeholder_regex(name: str) -> str:
    """ADaMIG names like AGEGRy, TRTxxP, ANLzzFL as a regex over concrete names."""
    out = re.escape(name)
    for token in ("xx", "zz", "y", "w"):
        out = out.replace(token, _PLACEHOLDERS[token])
    return f"^{out}$"


# the SDTM domain an ADaM dataset's records come from: its variables may be copied as they are
ADAM_PARENT = {"ADAE": "AE", "ADPC": "PC", "ADPP": "PP"}


@dataclass(frozen=True)
class AdamVariable:
    name: str
    label: str
    type: str
    core: str
    predecessor: str | None = None  # e.g. "DM.ETHNIC"


def adam_variable(specs: Specs, dataset: str, name: str,
                  specs_dir: Path = SPECS_DIR) -> AdamVariable:
    """Metadata of one ADaM variable: the ADaMIG (placeholders such as AGEGRy resolved), a DM
    variable copied as is (ADaMIG allows any), or a sponsor-defined one in
    specs/adam/sponsor_variables.csv. Anything else is an error."""
    ds = specs.dataset(dataset)
    for v in ds.variables:
        if v.name == name:
            return AdamVariable(name, v.label, v.type, v.core)
    for v in ds.variables:
        if v.name != v.name.upper():
            match = re.match(_placeholder_regex(v.name), name)
            if match:
                label = v.label
                for group in match.groups():
                    label = re.sub(r"\b(y|xx|zz|w)\b", group, label, count=1)
                return AdamVariable(name, label, v.type, v.core)
    for r in _sponsor_rows(specs_dir):
        if r["dataset"] == dataset and r["variable"] == name:
            return AdamVariable(name, r["label"], r["type"], r["core"])
    if dataset != "ADSL":  # any ADSL variable may be carried into a BDS dataset
        try:
            carried = adam_variable(specs, "ADSL", name, specs_dir)
            return AdamVariable(name, carried.label, carried.type, "Perm", f"ADSL.{name}")
        except SpecError:
            pass
    for domain in (ADAM_PARENT.get(dataset), "DM"):  # a copy of an SDTM variable
        if domain and specs.dataset(domain).has_variable(name):
            v = specs.dataset(domain).variable(name)
            return AdamVariable(name, v.label, v.type, "Perm", f"{domain}.{name}")
    raise SpecError(f"{dataset}.{name} is neither an ADaMIG {ds.name} variable, a copy of an "
                    "SDTM variable, nor listed in specs/adam/sponsor_variables.csv")


@lru_cache(maxsize=2)
def _sponsor_rows(specs_dir: Path) -> tuple[dict[str, str], ...]:
    return tuple(_read_csv(specs_dir / "adam" / "sponsor_variables.csv"))


# --- SDTM model class variables a domain may add (SDTMIG v3.4 section 2.7) -------------------

_TIMING = "General Observations"


@lru_cache(maxsize=4)
def load_model_variables(specs_dir: Path = SPECS_DIR) -> tuple[dict[str, str], ...]:
    """SDTM model v2.0 variables of the General Observations classes (specs/sdtm/model_variables.csv)."""
    return tuple(_read_csv(specs_dir / "sdtm" / "model_variables.csv"))


def _model_rank(row: dict[str, str]) -> tuple[int, int]:
    """Where a model variable sorts among a domain's variables: identifiers, then the class's
    topic and qualifiers, then timing (the IG's own order follows the same groups)."""
    if row["class"] != _TIMING:
        return 1, int(row["order"])
    return (0 if row["role"] == "Identifier" else 2), int(row["order"])


def _generic(name: str, domain: str) -> str:
    return "--" + name[len(domain):] if name.startswith(domain) else name


def model_variable(ds: DatasetSpec, name: str) -> tuple[VariableSpec, tuple[int, int]] | None:
    """The model variable `name` (e.g. LBLLOQ = Findings --LLOQ) for a domain of ds's class, with
    its rank; None when the class has no such variable or restricts it away from this domain."""
    cls = ds.dataset_class.strip().casefold()
    generic = _generic(name, ds.name)
    for row in load_model_variables():
        if row["variable"] != generic or row["class"].casefold() not in (cls, _TIMING.casefold()):
            continue
        restriction = row["usage_restrictions"].casefold()
        if f"not in {cls} class" in restriction or "not in human" in restriction or (
                restriction.startswith("only in") and ds.name.casefold() not in restriction):
            return None
        spec = VariableSpec(dataset=ds.name, order=0, name=name, label=row["label"],
                            type=row["type"], codelist=None, value_domain="",
                            role=row["role"], core="Perm")
        return spec, _model_rank(row)
    return None


def with_model_variables(ds: DatasetSpec, names: list[str]) -> DatasetSpec:
    """ds with the model class variables `names` added at their model position (SDTMIG 2.7:
    a domain may use any variable of its class); a name that is not one is a SpecError."""
    variables = list(ds.variables)
    for name in names:
        if ds.has_variable(name):
            continue
        found = model_variable(ds, name)
        if found is None:
            raise SpecError(f"{name} is neither a {ds.name} variable in the IG nor an SDTM v2.0 "
                            f"{ds.dataset_class} class variable a {ds.name} domain may add")
        spec, rank = found
        ranks = [model_variable(ds, v.name) for v in variables]
        at = next((i for i, r in enumerate(ranks) if r is not None and r[1] > rank),
                  len(variables))
        variables.insert(at, spec)
    ordered = tuple(VariableSpec(**{**v.__dict__, "order": i + 1}) for i, v in enumerate(variables))
    return DatasetSpec(ds.name, ds.label, ds.dataset_class, ds.structure, ds.keys, ds.standard,
                       ordered)
