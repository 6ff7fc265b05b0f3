"""The standards the CORE rules need, read from the copies vendored in specs/library/.

- SDTMIG v3.4: datasets (name, class, label, structure) and each dataset's variables in IG
  order (name, label, Char/Num, core Req/Exp/Perm, role, codelist C-codes).
- SDTM model v2.0: the class variables (General Observations identifiers and timing, the
  Interventions / Events / Findings / Findings About / Associated Persons variables) and the
  variables of the model's named datasets (DM, SUPPQUAL, TS, ...), in model order.
- CDISC SDTM CT 2025-03-28 (the full NCI EVS export): codelists by C-code and by submission
  short name, their terms, extensible flag and name; and the published SDTM CT package dates.

Class names come in two spellings: the library's ("Events", "Special-Purpose") on the records,
and CORE's (upper case, "SPECIAL PURPOSE") from `ct_class` and the lookups that rules use
(`domain_class`). The "--" generic names are the model's; `expand` puts a domain prefix in.

`load_library()` reads everything once per process (0.1-0.2 s measured; the terms of a codelist are
turned into objects only when that codelist is asked for).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd

from cdisc.paths import SPECS_DIR

LIBRARY_DIR = SPECS_DIR / "library"
IG_VERSION = "3.4"
MODEL_VERSION = "2.0"
CT_VERSION = "2025-03-28"
CT_PACKAGE = f"sdtmct-{CT_VERSION}"

CT_COLUMNS = (
    "Code",
    "Codelist Code",
    "Codelist Extensible (Yes/No)",
    "Codelist Name",
    "CDISC Submission Value",
    "CDISC Synonym(s)",
    "CDISC Definition",
    "NCI Preferred Term",
)

FILES = {
    "ig_datasets": "sdtmig-3.4-datasets.csv",
    "ig_variables": "sdtmig-3.4-variables.csv",
    "model_datasets": "sdtm-2.0-datasets.csv",
    "model_variables": "sdtm-2.0-variables.csv",
    "ct": f"sdtm-ct-{CT_VERSION}.txt.gz",
    "ct_packages": "sdtm-ct-published-packages.txt",
}

GENERAL_OBSERVATIONS = "GENERAL OBSERVATIONS"
INTERVENTIONS = "INTERVENTIONS"
EVENTS = "EVENTS"
FINDINGS = "FINDINGS"
FINDINGS_ABOUT = "FINDINGS ABOUT"
SPECIAL_PURPOSE = "SPECIAL PURPOSE"
TRIAL_DESIGN = "TRIAL DESIGN"
STUDY_REFERENCE = "STUDY REFERENCE"
RELATIONSHIP = "RELATIONSHIP"
ASSOCIATED_PERSONS = "ASSOCIATED PERSONS"
# the general observation classes: their variables come from the model (CORE: DETECTABLE_CLASSES)
GENERAL_CLASSES = frozenset({INTERVENTIONS, EVENTS, FINDINGS, FINDINGS_ABOUT})


class LibraryError(Exception):
    """The library has no answer (unknown dataset, class or codelist)."""


def ct_class(class_name: str) -> str:
    """CORE's spelling of a library class name: upper case, "Special-Purpose" ->
    "SPECIAL PURPOSE"."""
    return class_name.replace("-", " ").upper() if class_name else ""


def expand(name: str, prefix: str) -> str:
    """Replace "--" by the domain prefix: expand("--STDTC", "AE") is "AESTDTC"; names without
    "--" are returned unchanged."""
    return name.replace("--", prefix) if "--" in name and prefix else name


def is_supp(name: str) -> bool:
    """SUPPAE, SUPPQUAL, SQAPAE: supplemental qualifier datasets."""
    upper = name.upper()
    return upper.startswith("SUPP") or (upper.startswith("SQ") and len(upper) >= 4)


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    class_name: str  # library spelling: "Events", "Special-Purpose"
    structure: str = ""
    source: str = "IG"  # "IG" or "model"

    @property
    def ct_class(self) -> str:
        return ct_class(self.class_name)


@dataclass(frozen=True)
class Variable:
    """An IG dataset variable or a model (class or dataset) variable."""

    name: str
    label: str
    type: str  # Char / Num
    role: str
    order: int
    class_name: str
    dataset: str = ""  # "" for a model class variable
    core: str = ""  # Req / Exp / Perm: IG variables only
    codelists: tuple[str, ...] = ()  # CT C-codes
    codelist_values: tuple[str, ...] = ()  # codelist submission values the IG lists
    ccode: str = ""  # the model variable's own C-code
    source: str = "IG"  # "IG" or "model"
    generic: str = ""  # "--" form ("--TERM" for AETERM) when the model has one, else the name

    def expanded(self, prefix: str) -> Variable:
        """This variable with "--" replaced by the domain prefix."""
        return replace(self, name=expand(self.name, prefix)) if "--" in self.name else self

    def get(self, key: str, default=None):
        """Metadata by CORE's (CDISC Library) key: name, label, role, core, ordinal,
        simpleDatatype; our field names work too."""
        key = _KEY_ALIASES.get(key, key)
        return getattr(self, key, default)


_KEY_ALIASES = {
    "ordinal": "order",
    "order_number": "order",
    "simpleDatatype": "type",
    "datatype": "type",
    "data_type": "type",
}


@dataclass(frozen=True)
class Term:
    code: str
    submission_value: str
    synonyms: tuple[str, ...] = ()
    definition: str = ""
    preferred_term: str = ""


@dataclass(frozen=True)
class Codelist:
    code: str
    submission_value: str  # the short name: "SEX", "NY"
    name: str  # "Sex", "No Yes Response"
    extensible: bool
    terms: tuple[Term, ...] = ()
    definition: str = ""
    preferred_term: str = ""
    synonyms: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(t.submission_value for t in self.terms)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def term(self, value_or_code: str) -> Term | None:
        for term in self.terms:
            if value_or_code in (term.submission_value, term.code):
                return term
        return None


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _codes(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _synonyms(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


@dataclass
class Library:
    """SDTMIG v3.4 + SDTM v2.0 + SDTM CT 2025-03-28. Build with `load_library()`."""

    ig_datasets: dict[str, Dataset]
    ig_variables: dict[str, tuple[Variable, ...]]
    model_datasets: dict[str, Dataset]
    model_dataset_variables: dict[str, tuple[Variable, ...]]
    model_class_variables: dict[str, tuple[Variable, ...]]  # key: CORE class spelling
    model_class_names: dict[str, str]  # CORE spelling -> library spelling
    ct_lines: list[str]  # the CT export's data lines, one per codelist or term (CT_COLUMNS)
    ct_published: tuple[str, ...]  # "sdtmct-2014-09-26", ...
    ig_version: str = IG_VERSION
    model_version: str = MODEL_VERSION
    ct_version: str = CT_VERSION
    _ct_terms: dict = field(
        default_factory=dict, repr=False
    )  # codelist C-code -> term row positions
    _ct_heads: dict = field(default_factory=dict, repr=False)  # codelist C-code -> its row position
    _ct_names: dict = field(default_factory=dict, repr=False)  # upper short name -> C-code
    _codelists: dict = field(default_factory=dict, repr=False)
    _attributes: dict = field(default_factory=dict, repr=False)
    _generic: frozenset = field(default=frozenset(), repr=False)

    # --- datasets and classes -------------------------------------------------------------

    @property
    def ct_package(self) -> str:
        return f"sdtmct-{self.ct_version}"

    def dataset(self, name: str) -> Dataset | None:
        """The IG dataset, else the model's (SJ, TX, POOLDEF, ...)."""
        upper = name.upper()
        return self.ig_datasets.get(upper) or self.model_datasets.get(upper)

    def is_custom(self, name: str) -> bool:
        """Neither an IG nor a model dataset (CORE is_custom_domain). SUPP--/SQ-- count as
        SUPPQUAL and AP-- as their parent domain (see standard_name)."""
        std = self.standard_name(name)
        return std not in self.ig_datasets and std not in self.model_datasets

    def standard_name(self, name: str) -> str:
        """The library dataset a submission dataset is checked against: SUPPAE -> SUPPQUAL,
        APMH -> MH; others unchanged (upper case)."""
        upper = name.upper()
        if is_supp(upper):
            return "SUPPQUAL"
        if upper.startswith("AP") and upper not in self.model_datasets and len(upper) in (4, 6):
            return upper[2:]
        return upper

    def domain_class(
        self, name: str, columns: Iterable[str] = (), prefix: str | None = None
    ) -> str | None:
        """CORE class of a dataset ("EVENTS", "SPECIAL PURPOSE", "RELATIONSHIP", ...).

        SUPP--/SQ-- -> RELATIONSHIP; IG, then model datasets by name; AP-- inherit their parent
        domain's class; a custom domain by its topic variable (prefix + TERM -> EVENTS, TRT ->
        INTERVENTIONS, TESTCD -> FINDINGS, or FINDINGS ABOUT with prefix + OBJ; QNAM ->
        RELATIONSHIP), None when nothing tells."""
        upper = name.upper()
        if is_supp(upper):
            return RELATIONSHIP
        known = self.dataset(upper)
        if known:
            return known.ct_class
        if upper.startswith("AP") and len(upper) in (4, 6):
            parent = self.dataset(upper[2:])
            if parent:
                return parent.ct_class
        return self.detect_class(columns, prefix or upper[:2])

    @staticmethod
    def detect_class(columns: Iterable[str], prefix: str) -> str | None:
        """A custom domain's class from its columns (CORE handle_custom_domains): needs DOMAIN
        (variables prefix + TERM/TRT/TESTCD/OBJ) or RDOMAIN (QNAM) in the columns."""
        cols = {str(c).upper() for c in columns}
        prefix = (prefix or "").upper()
        if "DOMAIN" in cols:

            def has(suffix):
                return prefix + suffix in cols
        elif "RDOMAIN" in cols:

            def has(suffix):
                return suffix in cols
        else:
            return None
        if has("TERM"):
            return EVENTS
        if has("TRT"):
            return INTERVENTIONS
        if has("QNAM"):
            return RELATIONSHIP
        if has("TESTCD"):
            return FINDINGS_ABOUT if has("OBJ") else FINDINGS
        return None

    def domains_of_class(self, class_name: str | None = None) -> list[str]:
        """IG dataset names of a class (CORE spelling or library spelling), all when None."""
        if class_name is None:
            return list(self.ig_datasets)
        wanted = ct_class(class_name)
        return [d.name for d in self.ig_datasets.values() if d.ct_class == wanted]

    def label(self, name: str) -> str:
        """The IG dataset label ("" when the IG does not have the dataset)."""
        dataset = self.ig_datasets.get(name.upper())
        return dataset.label if dataset else ""

    # --- variables ------------------------------------------------------------------------

    def variables(self, dataset: str) -> tuple[Variable, ...]:
        """The IG variables of a dataset, in IG order (empty when the IG lacks it)."""
        return self.ig_variables.get(dataset.upper(), ())

    def variable(self, dataset: str, name: str) -> Variable | None:
        for variable in self.variables(dataset):
            if variable.name == name:
                return variable
        return None

    def class_variables(self, class_name: str) -> tuple[Variable, ...]:
        """The model's variables of a class (CORE or library spelling), in model order."""
        return self.model_class_variables.get(ct_class(class_name), ())

    def class_variables_by_role(self, class_name: str, role: str) -> tuple[Variable, ...]:
        return tuple(v for v in self.class_variables(class_name) if v.role == role)

    @property
    def identifier_variables(self) -> tuple[Variable, ...]:
        """General Observations identifiers (STUDYID ... --LNKGRP, --BEATNO), in order."""
        return self.class_variables_by_role(GENERAL_OBSERVATIONS, "Identifier")

    @property
    def timing_variables(self) -> tuple[Variable, ...]:
        """General Observations timing variables (VISITNUM ... --PDUR), in order."""
        return self.class_variables_by_role(GENERAL_OBSERVATIONS, "Timing")

    def topic_variables(self, class_name: str) -> tuple[Variable, ...]:
        """The topic variable(s) of a class: --TRT, --TERM, --TESTCD (FINDINGS ABOUT: --TESTCD)."""
        wanted = ct_class(class_name)
        if wanted == FINDINGS_ABOUT:
            return self.class_variables_by_role(FINDINGS, "Topic")
        return self.class_variables_by_role(wanted, "Topic")

    def model_variables(self, dataset: str) -> tuple[Variable, ...]:
        """The model's variables of a named model dataset (DM, SUPPQUAL, TS, ...)."""
        return self.model_dataset_variables.get(dataset.upper(), ())

    def generic_name(self, name: str, prefix: str) -> str:
        """The "--" form of a name: generic_name("AESTDTC", "AE") is "--STDTC" (a model
        variable); names without such a form are returned unchanged."""
        if prefix and name.startswith(prefix) and len(name) > len(prefix):
            candidate = "--" + name[len(prefix) :]
            if candidate in self._generic:
                return candidate
        return name

    def _class_parts(
        self, class_name: str
    ) -> tuple[list[Variable], list[Variable], list[Variable]]:
        """(General Observations identifiers, the class's variables, General Observations timing)
        as CORE's get_allowed_class_variables builds them: Findings About gets the Findings
        variables with --OBJ after --TEST; non-general classes have no identifiers or timing."""
        if class_name not in self.model_class_names:
            raise LibraryError(f"the SDTM model has no class {class_name!r}")
        class_vars = list(self.class_variables(class_name))
        if class_name == FINDINGS_ABOUT:
            findings = list(self.class_variables(FINDINGS))
            at = next((i for i, v in enumerate(findings) if v.name == "--TEST"), len(findings) - 1)
            class_vars = findings[: at + 1] + class_vars + findings[at + 1 :]
        if class_name not in GENERAL_CLASSES:
            return [], class_vars, []
        return list(self.identifier_variables), class_vars, list(self.timing_variables)

    def _resolve(self, name: str, columns: Iterable[str], prefix: str | None):
        """(library dataset name, "--" prefix, is AP--, is custom, CORE class)."""
        upper = name.upper()
        std = self.standard_name(upper)
        ap = not is_supp(upper) and std != upper
        if prefix is None or ap:  # AP--: the parent domain's prefix (CORE)
            prefix = std if not is_supp(upper) else upper
        custom = std not in self.ig_datasets and std not in self.model_datasets
        if custom:
            cls = self.detect_class(columns, prefix)
            if cls is None:
                raise LibraryError(
                    f"the class of custom dataset {name} cannot be told from its variables"
                )
        else:
            cls = self.dataset(std).ct_class
        return std, prefix, ap, custom, cls

    def _ap_identifiers(self, variables: list[Variable]) -> list[Variable]:
        merged = [
            v
            for v in variables + list(self.class_variables(ASSOCIATED_PERSONS))
            if v.name != "USUBJID"
        ]
        return sorted(merged, key=lambda v: v.order)

    def domain_variables(
        self, name: str, columns: Iterable[str] = (), prefix: str | None = None
    ) -> list[Variable]:
        """A dataset's variables from the IG and the model, "--" expanded (CORE
        get_variables_metadata_from_standard): a custom domain gets its class's model variables
        (identifiers + class variables + timing); an IG domain of a general observation class
        gets those model variables with the IG's own variables in their place (IG variables the
        model lacks go after the identifiers, before the timing variables, or last for timing);
        other IG datasets get their IG variables in IG order."""
        std, prefix, ap, custom, cls = self._resolve(name, columns, prefix)
        model: list[Variable] = []
        ids: list[Variable] = []
        timing: list[Variable] = []
        if custom or cls in GENERAL_CLASSES:
            ids, class_vars, timing = self._class_parts(cls)
            if ap:
                ids = self._ap_identifiers(ids)
            model = [v.expanded(prefix) for v in ids + class_vars + timing]
        if custom:
            return model
        ig = [v.expanded(prefix) for v in self.variables(std)]
        if cls not in GENERAL_CLASSES:
            return [v.expanded(prefix) for v in self._ap_identifiers(ig)] if ap else ig
        result = list(model)
        where = {v.name: i for i, v in enumerate(result)}
        for variable in ig:
            if variable.name in where:
                result[where[variable.name]] = variable
                continue
            if variable.role == "Identifier":
                at = len(ids)
            elif variable.role == "Timing":
                at = len(result)
            else:
                at = len(result) - len(timing)
            result.insert(at, variable)
            where = {v.name: i for i, v in enumerate(result)}
        return result

    def domain_model_variables(
        self, name: str, columns: Iterable[str] = (), prefix: str | None = None
    ) -> list[Variable]:
        """A dataset's variables from the model only, "--" expanded (CORE
        get_variables_metadata_from_standard_model): general observation classes get
        identifiers + class variables + timing; others the model class's variables if it has
        any (Associated Persons), else the model dataset's (DM, SUPPQUAL, TS, ...), else the
        IG dataset's."""
        std, prefix, ap, _custom, cls = self._resolve(name, columns, prefix)
        if cls in GENERAL_CLASSES:
            ids, class_vars, timing = self._class_parts(cls)
            if ap:
                ids = self._ap_identifiers(ids)
            return [v.expanded(prefix) for v in ids + class_vars + timing]
        _ids, class_vars, _timing = self._class_parts(cls)
        for variables in (class_vars, list(self.model_variables(std)), list(self.variables(std))):
            if variables:
                if ap:
                    variables = self._ap_identifiers(variables)
                return [v.expanded(prefix) for v in sorted(variables, key=lambda v: v.order)]
        return []

    # --- controlled terminology -----------------------------------------------------------

    def codelist(self, code_or_name: str) -> Codelist | None:
        """A codelist by C-code ("C66731") or submission short name ("SEX", any case)."""
        code = (
            code_or_name
            if code_or_name in self._ct_heads
            else self._ct_names.get(str(code_or_name).upper())
        )
        if code is None:
            return None
        if code not in self._codelists:
            self._codelists[code] = self._build_codelist(code)
        return self._codelists[code]

    def codelist_codes(self) -> list[str]:
        """Every codelist C-code in the CT package, in file order."""
        return list(self._ct_heads)

    @cached_property
    def ct_rows(self) -> list[list[str]]:
        """The CT export's rows split into fields (CT_COLUMNS), built on first use."""
        return [line.split("\t") for line in self.ct_lines]

    @cached_property
    def ct(self) -> pd.DataFrame:
        """The CT export as a frame (CT_COLUMNS), built on first use."""
        return pd.DataFrame(self.ct_rows, columns=list(CT_COLUMNS))

    def _build_codelist(self, code: str) -> Codelist:
        lines = self.ct_lines
        _, _, extensible, name, value, synonyms, definition, preferred = lines[
            self._ct_heads[code]
        ].split("\t")
        terms = tuple(
            Term(r[0], r[4], _synonyms(r[5]), r[6], r[7])
            for r in (lines[i].split("\t") for i in self._ct_terms.get(code, ()))
        )
        return Codelist(
            code=code,
            submission_value=value,
            name=name,
            extensible=extensible == "Yes",
            terms=terms,
            definition=definition,
            preferred_term=preferred,
            synonyms=_synonyms(synonyms),
        )

    def ct_attribute_values(self, attribute: str) -> frozenset:
        """Every value of a CT attribute in the package (CORE get_codelist_attributes):
        "Term CCODE", "Term Value" / "Term Submission Value", "Term Preferred Term",
        "Codelist CCODE" / "Codelist Code", "Codelist Value", "Codelist Name", "Extensible"."""
        key = " ".join(str(attribute).replace("_", " ").split())
        if key not in _CT_ATTRIBUTES:
            raise LibraryError(f"unknown CT attribute {attribute!r}")
        cache = self._attributes
        if key not in cache:
            level, column = _CT_ATTRIBUTES[key]
            at = CT_COLUMNS.index(column)
            want_term = level == "term"
            values = (r[at] for r in self.ct_rows if (r[1] != "") == want_term)
            if key == "Extensible":
                values = (v == "Yes" for v in values)
            cache[key] = frozenset(values)
        return cache[key]

    def published_ct_dates(self, package_types: Iterable[str] = ("sdtm",)) -> list[str]:
        """Dates of the published CT packages of the given types ("SDTM" -> sdtmct-*)."""
        wanted = {
            f"{t.lower()}ct" if not t.lower().endswith("ct") else t.lower() for t in package_types
        }
        unknown = wanted - {p.split("-", 1)[0] for p in self.ct_published}
        if unknown:
            raise LibraryError(f"no published package list for {sorted(unknown)}")
        return sorted(
            {p.split("-", 1)[1] for p in self.ct_published if p.split("-", 1)[0] in wanted}
        )


_CT_ATTRIBUTES = {
    "Term CCODE": ("term", "Code"),
    "Term Value": ("term", "CDISC Submission Value"),
    "Term Submission Value": ("term", "CDISC Submission Value"),
    "Term Preferred Term": ("term", "NCI Preferred Term"),
    "Definition": ("term", "CDISC Definition"),
    "Codelist CCODE": ("codelist", "Code"),
    "Codelist Code": ("codelist", "Code"),
    "Codelist Value": ("codelist", "CDISC Submission Value"),
    "Codelist Name": ("codelist", "Codelist Name"),
    "Extensible": ("codelist", "Codelist Extensible (Yes/No)"),
}


def _ig_variable(row: dict, generic: frozenset) -> Variable:
    name, prefix = row["Variable Name"], row["Dataset Name"]
    candidate = "--" + name[len(prefix) :] if name.startswith(prefix) else ""
    return Variable(
        name=row["Variable Name"],
        label=row["Variable Label"],
        type=row["Type"],
        role=row["Role"],
        order=int(row["Variable Order"]),
        class_name=row["Class"],
        dataset=row["Dataset Name"],
        core=row["Core"],
        codelists=_codes(row["CDISC CT Codelist Code(s)"]),
        codelist_values=_codes(row["Codelist Submission Values"]),
        source="IG",
        generic=candidate if candidate in generic else name,
    )


def _model_variable(row: dict) -> Variable:
    return Variable(
        name=row["Variable Name"],
        label=row["Variable Label"],
        type=row["Type"],
        role=row["Role"],
        order=int(row["Variable Order"]),
        class_name=row["Class"],
        dataset=row["Dataset Name"] or "",
        ccode=row["Variable C-Code"] or "",
        source="model",
        generic=row["Variable Name"],
    )


def _read_ct(path: Path) -> list[str]:
    """The data lines of the NCI EVS tab-delimited export (fields as they are, no quoting)."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8").replace("\r\n", "\n")
    lines = text.split("\n")
    header = tuple(lines[0].split("\t"))
    if header != CT_COLUMNS:
        raise LibraryError(f"{path.name}: unexpected columns {header}")
    return [line for line in lines[1:] if line]


def _published(path: Path) -> tuple[str, ...]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def build_library(directory: Path = LIBRARY_DIR) -> Library:
    """Read the vendored files (use `load_library()` for the shared instance)."""
    ig_datasets = {
        r["Dataset Name"]: Dataset(
            r["Dataset Name"], r["Dataset Label"], r["Class"], r["Structure"], "IG"
        )
        for r in _rows(directory / FILES["ig_datasets"])
    }
    model_datasets = {
        r["Dataset Name"]: Dataset(
            r["Dataset Name"], r["Dataset Label"], r["Class"], r["Structure"], "model"
        )
        for r in _rows(directory / FILES["model_datasets"])
    }
    model_rows = [_model_variable(r) for r in _rows(directory / FILES["model_variables"])]
    model_class_names: dict[str, str] = {}
    class_vars: dict[str, list[Variable]] = {}
    dataset_vars: dict[str, list[Variable]] = {}
    for v in model_rows:
        model_class_names.setdefault(ct_class(v.class_name), v.class_name)
        if v.dataset:
            dataset_vars.setdefault(v.dataset, []).append(v)
        else:
            class_vars.setdefault(ct_class(v.class_name), []).append(v)
    for d in model_datasets.values():
        model_class_names.setdefault(d.ct_class, d.class_name)
    generic = frozenset(v.name for v in model_rows if v.name.startswith("--"))

    ig_vars: dict[str, list[Variable]] = {}
    for row in _rows(directory / FILES["ig_variables"]):
        v = _ig_variable(row, generic)
        ig_vars.setdefault(v.dataset, []).append(v)

    ct_lines = _read_ct(directory / FILES["ct"])
    ct_heads: dict[str, int] = {}
    ct_names: dict[str, str] = {}
    ct_terms: dict[str, list[int]] = {}
    for i, line in enumerate(ct_lines):
        code, parent, _rest = line.split("\t", 2)
        if parent:
            ct_terms.setdefault(parent, []).append(i)
        else:
            ct_heads[code] = i
            ct_names[line.split("\t", 5)[4].upper()] = code

    return Library(
        ig_datasets=ig_datasets,
        ig_variables={k: tuple(sorted(v, key=lambda x: x.order)) for k, v in ig_vars.items()},
        model_datasets=model_datasets,
        model_dataset_variables={
            k: tuple(sorted(v, key=lambda x: x.order)) for k, v in dataset_vars.items()
        },
        model_class_variables={
            k: tuple(sorted(v, key=lambda x: x.order)) for k, v in class_vars.items()
        },
        model_class_names=model_class_names,
        ct_lines=ct_lines,
        ct_published=_published(directory / FILES["ct_packages"]),
        _ct_terms=ct_terms,
        _ct_heads=ct_heads,
        _ct_names=ct_names,
        _generic=generic,
    )


@lru_cache(maxsize=1)
def load_library() -> Library:
    """The shared Library, read once per process."""
    return build_library()
