"""Regenerate specs/ from ../shared/reference (run by a developer, never by the tool).

    python tools/vendor_specs.py [REFERENCE_DIR]

Copies, trimmed to the datasets this tool produces, the SDTMIG v3.4 and ADaMIG v1.3 variable
metadata and the CDISC controlled terminology codelists they reference (SDTM CT 2025-03-28).
Hand-maintained columns of specs/*/datasets.csv (keys) are kept as they are.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDTM_DATASETS = ["TS", "TA", "TE", "TV", "TI", "DM", "SE", "SV", "EX", "CM", "PR", "AE", "MH",
                 "DS", "DD", "IE", "RS", "LB", "VS", "PC", "PP", "CP", "SUPPQUAL", "RELREC"]
ADAM_DATASETS = {"ADSL": "Subject-Level Analysis Dataset", "ADRS": "Basic Data Structure",
                 "ADTTE": "Basic Data Structure", "ADAE": "Adverse Event Analysis Dataset",
                 "ADPC": "Basic Data Structure", "ADPP": "Basic Data Structure"}
# ADAE (ADaM OCCDS) has its own metadata file: ADaM Structure for Adverse Event Analysis v1.0
ADAE_METADATA = "standards_metadata/adam/ADaM_ADAE_v1.0_Variables.csv"
# Natural keys of datasets added after the hand-edited ones (which keep their keys column)
DEFAULT_KEYS = {"CM": "STUDYID USUBJID CMTRT CMSTDTC", "PR": "STUDYID USUBJID PRTRT PRSTDTC",
                "MH": "STUDYID USUBJID MHCAT MHTERM MHSTDTC",
                # trial design: the SDTMIG v3.4 natural keys
                "TS": "STUDYID TSPARMCD TSSEQ", "TA": "STUDYID ARMCD TAETORD",
                "TE": "STUDYID ETCD", "TV": "STUDYID VISITNUM ARMCD", "TI": "STUDYID IETESTCD",
                "SE": "STUDYID USUBJID SESTDTC ETCD", "SV": "STUDYID USUBJID VISITNUM",
                "DD": "STUDYID USUBJID DDTESTCD", "IE": "STUDYID USUBJID IETESTCD",
                "VS": "STUDYID USUBJID VSTESTCD VISITNUM VSTPTNUM VSDTC",
                "PC": "STUDYID USUBJID PCTESTCD PCSPEC VISITNUM PCTPTNUM PCDTC",
                "PP": "STUDYID USUBJID PPTESTCD PPCAT PPSPEC PPRFTDTC",
                "CP": "STUDYID USUBJID CPTESTCD CPSPEC CPMETHOD CPDTC",
                "RELREC": "STUDYID RDOMAIN USUBJID IDVAR IDVARVAL RELID"}
# Codelists used by the mappings or the guides that no IG variable references directly:
# ONCRSCAT, NY, DOMAIN, and the TS value codelists (TSVAL of TPHASE, TTYPE, TBLIND, TCNTRL,
# INTMODEL, INTTYPE, SEXPOP, STYPE, TINDTP).
EXTRA_CODELISTS = ["C124298", "C66742", "C66734", "C66737", "C66739", "C66735", "C66785",
                   "C99076", "C99078", "C66732", "C99077", "C66736"]


def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def write_csv(path: Path, fieldnames: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def codes_of(text: str) -> list[str]:
    return [c for c in text.replace(";", " ").replace(",", " ").split() if c.startswith("C")]


def vendor_sdtm(ref: Path) -> set[str]:
    rows = read_csv(ref / "standards_metadata/sdtm/ig/v3.4/Variables.csv")
    out, codes = [], set()
    for r in rows:
        if r["Dataset Name"] not in SDTM_DATASETS:
            continue
        cl = codes_of(r["CDISC CT Codelist Code(s)"])
        codes.update(cl)
        out.append({
            "dataset": r["Dataset Name"], "order": r["Variable Order"], "variable": r["Variable Name"],
            "label": r["Variable Label"], "type": r["Type"], "codelist": " ".join(cl),
            "value_domain": r["Described Value Domain(s)"], "role": r["Role"], "core": r["Core"],
        })
    write_csv(ROOT / "specs/sdtm/variables.csv", list(out[0]), out)
    ds_rows = read_csv(ref / "standards_metadata/sdtm/ig/v3.4/Datasets.csv")
    keep = {r["dataset"]: r for r in read_csv(ROOT / "specs/sdtm/datasets.csv")} \
        if (ROOT / "specs/sdtm/datasets.csv").exists() else {}
    ds_out = []
    for r in ds_rows:
        if r["Dataset Name"] in SDTM_DATASETS:
            old = keep.get(r["Dataset Name"], {})
            ds_out.append({"dataset": r["Dataset Name"], "label": r["Dataset Label"],
                           "class": r["Class"], "structure": r["Structure"],
                           "keys": old.get("keys", DEFAULT_KEYS.get(r["Dataset Name"],
                                                                    "STUDYID USUBJID"))})
    ds_out.sort(key=lambda r: SDTM_DATASETS.index(r["dataset"]))
    write_csv(ROOT / "specs/sdtm/datasets.csv", list(ds_out[0]), ds_out)
    return codes


def vendor_model(ref: Path) -> None:
    """SDTM model v2.0 class variables (--LLOQ, --STDY, ...): what a domain may add to the IG's
    variables (SDTMIG section 2.7), with the order and role that place them."""
    rows = read_csv(ref / "standards_metadata/sdtm/model/v2.0/Variables.csv")
    classes = ("General Observations", "Interventions", "Events", "Findings")
    out = [{"class": r["Class"], "order": r["Variable Order"], "variable": r["Variable Name"],
            "label": r["Variable Label"], "type": r["Type"], "role": r["Role"],
            "usage_restrictions": r["Usage Restrictions"]}
           for r in rows if r["Class"] in classes]
    write_csv(ROOT / "specs/sdtm/model_variables.csv", list(out[0]), out)


def vendor_adam(ref: Path) -> set[str]:
    rows = read_csv(ref / "standards_metadata/adam/ig/v1.3/Variables.csv")
    rows += read_csv(ref / ADAE_METADATA)
    out, codes = [], set()
    for dataset, structure in ADAM_DATASETS.items():
        order = 0
        for r in rows:
            if r["Data Structure Name"] != structure:
                continue
            order += 1
            cl = codes_of(r["CDISC CT Codelist Code(s)"])
            codes.update(cl)
            out.append({
                "dataset": dataset, "order": str(order), "variable": r["Variable Name"],
                "label": r["Variable Label"], "type": r["Type"], "codelist": " ".join(cl),
                "value_domain": r["Described Value Domain(s)"], "role": r["Variable Set"],
                "core": r["Core"],
            })
    write_csv(ROOT / "specs/adam/variables.csv", list(out[0]), out)
    return codes


def vendor_ct(ref: Path, codes: set[str]) -> None:
    fields = ["codelist_code", "codelist", "codelist_name", "extensible", "term_code",
              "submission_value", "synonyms", "preferred_term"]
    sdtm = read_csv(ref / "controlled_terminology/SDTM Terminology.txt", delimiter="\t")
    adam = read_csv(ref / "controlled_terminology/ADaM_CT_2025-03-28.csv")
    define = read_csv(ref / "controlled_terminology/Define-XML_CT_2025-03-28.csv")
    for name, source, wanted in (("sdtm_ct.csv", sdtm, codes), ("adam_ct.csv", adam, None),
                                 ("define_ct.csv", define, None)):
        heads = {r["Code"]: r for r in source if not r["Codelist Code"]}
        rows = []
        for r in source:
            cl = r["Codelist Code"]
            if not cl or (wanted is not None and cl not in wanted):
                continue
            head = heads[cl]
            rows.append({
                "codelist_code": cl, "codelist": head["CDISC Submission Value"],
                "codelist_name": head["Codelist Name"],
                "extensible": head["Codelist Extensible (Yes/No)"], "term_code": r["Code"],
                "submission_value": r["CDISC Submission Value"],
                "synonyms": r["CDISC Synonym(s)"], "preferred_term": r["NCI Preferred Term"],
            })
        rows.sort(key=lambda x: (x["codelist_code"], x["submission_value"]))
        write_csv(ROOT / "specs/ct" / name, fields, rows)


def main() -> None:
    ref = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference"
    codes = vendor_sdtm(ref) | set(EXTRA_CODELISTS)
    vendor_model(ref)
    vendor_adam(ref)
    vendor_ct(ref, codes)
    print("specs/ regenerated from", ref)


if __name__ == "__main__":
    main()
