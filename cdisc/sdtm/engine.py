"""The generic mapping engine: a study's mapping folder + raw exports -> SDTM datasets.

Stages (each a function of tables): read raw forms -> build each record block (join, filter,
map variables, reject bad rows) -> phase-2 variables that read other built domains (DM's
reference dates from EX) -> shared derivations (USUBJID, --SEQ, --DY, EPOCH) -> Dataset objects
with define metadata. Every raw row ends up mapped, rejected (with a reason) or filtered (by a
named filter); the ledger counts them per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.build import check_metadata, typed_table
from cdisc.column_codes import value_codes
from cdisc.errors import InputError, SpecError
from cdisc.io.raw import FILE_COL, ROW_COL, read_raw, source_label
from cdisc.text import not_equal_text, stripped_text, text_column
from cdisc.model import Column, Dataset, Origin, SponsorCodelist
from cdisc.progress import track
from cdisc.sdtm import context, long_text, registry
from cdisc.sdtm import derive
from cdisc.sdtm.ledger import Ledger
from cdisc.sdtm.mapping import (RecordBlock, StudyConfig, check_against_files, study_specs,
                                used_sources)
from cdisc.specs import DatasetSpec, Specs
from cdisc.terminology import CTLookup, build_lookup

# SUPPQUAL QORIG from the define origin of the value
QORIG = {"Collected": "CRF", "Derived": "DERIVED", "Assigned": "ASSIGNED"}
ACRF_LEAF = "LF.ACRF"  # define.xml leaf of the annotated CRF
SUBJ = "__subject"
SUPP_PREFIX = "__SUPP__"


@dataclass
class MappingResult:
    datasets: dict[str, Dataset]
    rejects: pd.DataFrame
    reconciliation: pd.DataFrame
    trace: pd.DataFrame
    issues: pd.DataFrame  # data_issues.csv: values kept as far as reliable, with their query
    empty: list[str] = field(default_factory=list)  # domains with no records: not written


@dataclass
class BlockOutput:
    block: RecordBlock
    frame: pd.DataFrame  # joined raw rows kept so far (qualified column names)
    values: dict[str, pd.Series]
    origins: dict[str, str]


class Engine:
    def __init__(self, config: StudyConfig, specs: Specs) -> None:
        self.config = config
        self.specs = study_specs(config, specs)  # idempotent: map_raw may have done it already
        self.ledger = Ledger()
        self._lookups: dict[str, CTLookup] = {}
        self.providers: dict[str, dict[str, str]] = {}  # domain -> variable -> who collected
        self.comments: dict[str, dict[str, str]] = {}  # domain -> variable -> define comment
        self.pages: dict[str, dict[str, tuple[str, str]]] = {}  # domain -> variable -> aCRF pages

    # -- helpers ---------------------------------------------------------------------------------
    def lookup(self, name: str) -> CTLookup:
        if name not in self._lookups:
            self._lookups[name] = build_lookup(name, self.specs, self.config.study_ct)
        return self._lookups[name]

    def _subject(self, df: pd.DataFrame, alias: str) -> pd.Series:
        col = self.config.sources[alias].subject_column
        return stripped_text(df[col])

    # -- stage 1: raw ------------------------------------------------------------------------------
    def read_sources(self, raw_dir: Path) -> dict[str, pd.DataFrame]:
        check_against_files(self.config, raw_dir)
        raw = {}
        for alias in track(used_sources(self.config), "reading raw files", "file",
                           lambda a: self.config.sources[a].file):
            src = self.config.sources[alias]
            df = read_raw(raw_dir / src.file, src.form)
            df[SUBJ] = self._subject(df, alias)
            self.ledger.add_source(alias, source_label(src.file, src.form), len(df))
            raw[alias] = df
        return raw

    # -- stage 2: record blocks -------------------------------------------------------------------
    def _dedupe(self, domain: str, block: str, alias: str, df: pd.DataFrame) -> pd.DataFrame:
        """Drop rows without a subject and repeated subjects (one-per-subject forms), rejecting them."""
        df = self._reject_no_subject(domain, block, alias, df)
        dup = df[SUBJ].duplicated(keep="first")
        if dup.any():
            first_row = df[~dup].set_index(SUBJ)[ROW_COL]
            reason = "subject appears more than once (first at row " + \
                df.loc[dup, SUBJ].map(first_row).astype(str) + ")"
            self.ledger.reject(alias, domain, block, df[dup],
                               self.config.sources[alias].subject_column, df.loc[dup, SUBJ], reason)
        return df[~dup]

    def _reject_no_subject(self, domain: str, block: str, alias: str,
                           df: pd.DataFrame) -> pd.DataFrame:
        """A row without a subject identifier is about nobody: blank export rows end here."""
        no_subject = df[SUBJ] == ""
        self.ledger.reject(alias, domain, block, df[no_subject],
                           self.config.sources[alias].subject_column, df.loc[no_subject, SUBJ],
                           "missing subject identifier")
        return df[~no_subject]

    def _join(self, domain: str, block: RecordBlock, raw: dict[str, pd.DataFrame],
              one_per_subject: bool) -> pd.DataFrame:
        base = raw[block.source]
        if one_per_subject:
            base = self._dedupe(domain, block.name, block.source, base)
        else:
            base = self._reject_no_subject(domain, block.name, block.source, base)
        frame = base.drop(columns=[SUBJ]).add_prefix(f"{block.source}.")
        frame[FILE_COL] = base[FILE_COL].to_numpy()
        frame[ROW_COL] = base[ROW_COL].to_numpy()
        frame[SUBJ] = base[SUBJ].to_numpy()
        for alias in block.join:
            other = self._dedupe(domain, block.name, alias, raw[alias])
            orphans = ~other[SUBJ].isin(frame[SUBJ])
            self.ledger.reject(alias, domain, block.name, other[orphans],
                               self.config.sources[alias].subject_column, other.loc[orphans, SUBJ],
                               f"subject not in {self.config.sources[block.source].file}")
            joined = other.drop(columns=[FILE_COL]).add_prefix(f"{alias}.")
            joined = joined.rename(columns={f"{alias}.{SUBJ}": SUBJ})
            frame = frame.merge(joined, on=SUBJ, how="left", sort=False)
        frame.index = pd.RangeIndex(len(frame))
        return frame

    def _apply_filter(self, domain: str, block: RecordBlock, frame: pd.DataFrame,
                      ctx: context.Context) -> pd.DataFrame:
        if not block.filter:
            return frame
        keep = context.evaluate_condition(ctx, block.filter["when"])
        self.ledger.mark(block.source, frame.loc[~keep, ROW_COL],
                         f"filtered:{block.filter['name']}")
        return frame[keep]

    def _context(self, frame: pd.DataFrame, block: RecordBlock, ds: DatasetSpec, var: str,
                 domains: dict[str, pd.DataFrame] | None = None,
                 mapped: dict[str, pd.Series] | None = None,
                 usubjid: pd.Series | None = None) -> context.Context:
        vspec = ds.variable(var) if var else None
        if usubjid is None:
            usubjid = derive.derive_usubjid(self.config.studyid, frame[SUBJ],
                                             self.config.usubjid_template)
        return context.Context(frame=frame, primary=block.source, target=var,
                           target_numeric=bool(vspec and vspec.is_numeric), lookup=self.lookup,
                           visits=self.config.visits, domains=domains, usubjid=usubjid,
                           default_codelist=vspec.codelist if vspec else None,
                           aliases=frozenset(block.join), mapped=mapped)

    def map_block(self, domain: str, block: RecordBlock, raw: dict[str, pd.DataFrame],
                  valid_subjects: pd.Index | None) -> BlockOutput:
        ds = self.specs.dataset(domain)
        frame = self._join(domain, block, raw, one_per_subject=ds.structure.startswith(
            "One record per subject"))
        frame = self._apply_filter(domain, block, frame, self._context(frame, block, ds, ""))
        if block.one_per_subject:
            frame = self._one_per_subject(block, frame)
        if valid_subjects is not None:
            unknown = ~frame[SUBJ].isin(valid_subjects)
            self.ledger.reject(block.source, domain, block.name, frame[unknown],
                               self.config.sources[block.source].subject_column,
                               frame.loc[unknown, SUBJ], "subject not in DM")
            frame = frame[~unknown]
        values: dict[str, pd.Series] = {}
        origins: dict[str, str] = {}
        rules = [(var, rule, None) for var, rule in block.variables.items()]
        rules += [(SUPP_PREFIX + q, spec["rule"], spec) for q, spec in block.supplemental.items()]
        usubjid = derive.derive_usubjid(self.config.studyid, frame[SUBJ],
                                         self.config.usubjid_template)
        self._query_inconsistent(domain, block, frame, ds, usubjid)
        for var, rule, supp in rules:
            if registry.rule_phase(rule) == 2:
                continue
            ctx = self._context(frame, block, ds, "" if supp else var, mapped=values,
                                usubjid=usubjid)
            result = registry.apply_rule(ctx, rule)
            self._query_errors(domain, block, frame, var, rule, result, usubjid)
            values[var] = result.values
            origins[var] = rule.get("origin") or registry.ALGORITHMS[registry.rule_algorithm(rule)[0]].origin
            for extra, series in result.extra.items():
                values[extra] = series
                origins[extra] = origins[var]
        self._query_required_missing(domain, block, frame, ds, values, usubjid)
        if not any(registry.rule_phase(rule) == 2 for rule in block.variables.values()):
            frame = _bookkeeping(frame)  # no phase-2 rule reads the joined raw columns
        return BlockOutput(block=block, frame=frame, values=values, origins=origins)

    def _query_inconsistent(self, domain: str, block: RecordBlock, frame: pd.DataFrame,
                            ds: DatasetSpec, usubjid: pd.Series) -> None:
        """Records the mapping declares inconsistent (block 'queries') stay in SDTM as collected;
        each is listed as a data issue with the mapping's query text."""
        for entry in block.queries:
            hit = context.evaluate_condition(self._context(frame, block, ds, ""), entry["when"])
            if not hit.any():
                continue
            cols = context.condition_columns(entry["when"])
            col = context.qualify(cols[0], block.source, set(block.join)) if cols else SUBJ
            self.ledger.query(domain, entry.get("variable", ""), frame[hit], usubjid[hit],
                              col.split(".", 1)[1] if "." in col else "", frame.loc[hit, col],
                              entry["issue"], entry["query"])

    def _one_per_subject(self, block: RecordBlock, frame: pd.DataFrame) -> pd.DataFrame:
        """Keep the first or last row per subject by a raw column (numbers compare as numbers),
        never by the order rows arrived in."""
        spec = block.one_per_subject or {}
        col = frame[context.qualify(spec["order_by"], block.source, set(block.join))]
        text = stripped_text(col)
        number = pd.to_numeric(text, errors="coerce")
        order = frame.assign(__num=number, __text=text).sort_values(
            [SUBJ, "__num", "__text", ROW_COL], kind="stable")
        kept = order.drop_duplicates(SUBJ, keep=spec["keep"]).index
        return frame.loc[frame.index.isin(kept)]

    def _query_errors(self, domain: str, block: RecordBlock, frame: pd.DataFrame, var: str,
                      rule: dict, result: context.Result, usubjid: pd.Series) -> None:
        """A value that could not be mapped as collected: the record keeps what the algorithm
        found reliable in it, and the raw value is listed as a data issue with its query."""
        bad = not_equal_text(result.errors, "")
        if not bad.any():
            return
        column = _source_column(block, rule) or var
        source_col = context.qualify(column, block.source, set(block.join))
        raw_values = frame.loc[bad, source_col] if source_col in frame else result.values[bad]
        raw_column = source_col.split(".", 1)[1]
        label = var.removeprefix(SUPP_PREFIX)
        kept = result.values[bad]
        kept_text = text_column(kept)
        query = (f"{raw_column} = '" + text_column(raw_values) + "': " + result.errors[bad]
                 + ". " + np.where(kept_text != "", "Submitted as '" + kept_text + "'. ",
                                   "Submitted empty. ")
                 + "Please correct or confirm the value in the CRF.")
        self.ledger.query(domain, label, frame[bad], usubjid[bad], raw_column, raw_values,
                          result.errors[bad], query)

    def _query_required_missing(self, domain: str, block: RecordBlock, frame: pd.DataFrame,
                                ds: DatasetSpec, values: dict[str, pd.Series],
                                usubjid: pd.Series) -> None:
        """A Req variable that came out empty keeps its record (nothing collected is dropped):
        the gap is a data issue, and the validator reports the empty required variable."""
        for var, series in values.items():
            if var.startswith(SUPP_PREFIX) or not ds.has_variable(var) \
                    or ds.variable(var).core != "Req":
                continue
            empty = series.isna() | (series.astype(str) == "")
            if not empty.any():
                continue
            refs = registry.rule_columns(block.variables.get(var, {"hardcode": ""}))
            column = context.qualify(refs[0], block.source, set(block.join)).split(".", 1)[1] \
                if refs else var
            source_col = f"{block.source}.{column}"
            raw = frame.loc[empty, source_col] if source_col in frame else series[empty]
            self.ledger.query(domain, var, frame[empty], usubjid[empty], column, raw,
                              f"{var} is required (SDTMIG Core Req) but empty",
                              f"{var} could not be derived from {column} = '"
                              + text_column(raw) + "'. Please provide the missing information "
                              "(or, for a coded term, a verbatim term that can be coded).")

    def map_phase2(self, domain: str, out: BlockOutput, domains: dict[str, pd.DataFrame]) -> None:
        ds = self.specs.dataset(domain)
        for var, rule in out.block.variables.items():
            if registry.rule_phase(rule) != 2:
                continue
            ctx = self._context(out.frame, out.block, ds, var, domains, mapped=out.values)
            result = registry.apply_rule(ctx, rule)
            self._query_errors(domain, out.block, out.frame, var, rule, result, ctx.usubjid)
            out.values[var] = result.values
            out.origins[var] = rule.get("origin") or "Derived"

    # -- stage 3: assemble ------------------------------------------------------------------------
    def block_table(self, domain: str, out: BlockOutput) -> pd.DataFrame:
        ds = self.specs.dataset(domain)
        table = pd.DataFrame(index=out.frame.index)
        table["STUDYID"] = self.config.studyid
        table["DOMAIN"] = domain
        table["USUBJID"] = derive.derive_usubjid(self.config.studyid, out.frame[SUBJ],
                                                 self.config.usubjid_template)
        if ds.has_variable("SUBJID"):
            table["SUBJID"] = out.frame[SUBJ].astype(object)
        for var, series in out.values.items():
            table[var] = series
        table[FILE_COL] = out.frame[FILE_COL]
        table[ROW_COL] = out.frame[ROW_COL]
        return table

    def run(self, raw_dir: Path) -> MappingResult:
        """The stages in order, each a step of its own (see the module docstring)."""
        raw = self.read_sources(raw_dir)
        outputs = self.map_all_blocks(raw)
        self.map_all_phase2(outputs)
        # who collected each variable, on which form: before assemble_tables drops the values
        forms = {d: self._forms(outs) for d, outs in outputs.items()}
        self.providers = {d: self._providers(f) for d, f in forms.items()}
        self.pages = {d: self._crf_pages(f) for d, f in forms.items()}
        self.mark_mapped(outputs, raw)
        del raw  # the raw forms are not held while the tables are assembled
        tables = self.assemble_tables(outputs)
        origins = {d: _merge_origins(outs) for d, outs in outputs.items()}
        self.comments = {d: {v: str(r["comment"]).strip() for o in outs
                             for v, r in o.block.variables.items() if r.get("comment")}
                         for d, outs in outputs.items()}
        methods = {d: {v: text for o in outs for v, r in o.block.variables.items()
                       if (text := registry.describe_rule(r))} for d, outs in outputs.items()}
        datasets, traces, empty = {}, [], []
        dm_table = tables["DM"]
        for d in track(list(tables), "building SDTM", "domain"):
            built = self.build_domain(d, tables.pop(d), dm_table, outputs[d], origins[d],
                                      methods[d])
            if built is None:  # a form with no records yet: no domain is submitted for it
                empty.append(d)
                continue
            dataset, trace, supp = built
            datasets[d] = dataset
            traces.append(trace)
            if supp is not None:
                datasets[supp.name] = supp
        trace = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame()
        del traces
        _trace_views(datasets, trace)
        return MappingResult(datasets, self.ledger.reject_table(), self.ledger.reconciliation(),
                             trace, self.ledger.issue_table(), empty)

    def map_all_blocks(self, raw: dict[str, pd.DataFrame]) -> dict[str, list[BlockOutput]]:
        """Phase 1 of every domain in mapping order; DM first, its subjects bound the rest."""
        outputs: dict[str, list[BlockOutput]] = {}
        subjects: pd.Index | None = None
        domains = self.config.domains
        for i, dm in enumerate(track(domains, "mapping SDTM", "domain", lambda m: m.domain)):
            outputs[dm.domain] = [self.map_block(dm.domain, b, raw, subjects) for b in dm.blocks]
            _release_raw(raw, {a for later in domains[i + 1:] for b in later.blocks
                               for a in (b.source, *b.join)})
            if dm.domain == "DM":
                subjects = pd.Index(pd.concat([o.frame[SUBJ] for o in outputs["DM"]]))
                if subjects.empty:
                    files = sorted({self.config.sources[b.source].file for b in dm.blocks})
                    raise InputError("no subject records: DM needs at least one subject",
                                     file=", ".join(files))
        if subjects is None:
            raise SpecError("the mapping has no DM domain: every study needs one")
        return outputs

    def map_all_phase2(self, outputs: dict[str, list[BlockOutput]]) -> None:
        """Variables that read other built domains (DM's reference dates from EX)."""
        # phase-1 tables are built only for the domains phase-2 rules read (DM reads EX, DS)
        phase1 = _LazyTables(lambda d: pd.concat([self.block_table(d, o) for o in outputs[d]],
                                                 ignore_index=True), outputs)
        for dm in self.config.domains:
            for out in outputs[dm.domain]:
                self.map_phase2(dm.domain, out, phase1)

    def assemble_tables(self, outputs: dict[str, list[BlockOutput]]) -> dict[str, pd.DataFrame]:
        """Domain -> the table of its blocks' records; each block's values are dropped once in
        its domain's table, so they are not held twice."""
        tables = {}
        for d, outs in outputs.items():
            tables[d] = pd.concat([self.block_table(d, o) for o in outs], ignore_index=True)
            for o in outs:
                o.values = {}
        return tables

    def mark_mapped(self, outputs: dict[str, list[BlockOutput]],
                    raw: dict[str, pd.DataFrame]) -> None:
        """Record in the ledger every raw row that made a record (joined forms' rows too)."""
        for outs in outputs.values():  # from here on only the rows' bookkeeping is needed
            for o in outs:
                o.frame = _bookkeeping(o.frame)
        for outs in outputs.values():
            for o in outs:
                self.ledger.mark(o.block.source, o.frame[ROW_COL], "mapped")
                for alias in o.block.join:
                    # a joined row is mapped with its subject's record (even if another block
                    # filtered it), unless it was left out itself (a second row of a subject)
                    matched = raw[alias][SUBJ].isin(o.frame[SUBJ]) & \
                        self.ledger.not_rejected(alias)
                    self.ledger.mark(alias, raw[alias].loc[matched, ROW_COL], "mapped")

    def build_domain(self, domain: str, table: pd.DataFrame, dm_table: pd.DataFrame,
                     outputs: list[BlockOutput], origins: dict[str, str],
                     methods: dict[str, str]
                     ) -> tuple[Dataset, pd.DataFrame, Dataset | None] | None:
        """Shared and domain derivations, SUPP--, then the Dataset; None without records."""
        table = self.derive_shared(domain, table, dm_table)
        table, derived = self.derive_domain(domain, table, dm_table)
        for var, text in derived.items():
            origins[var], methods[var] = "Derived", text
        supp_specs = {q: spec for o in outputs for q, spec in o.block.supplemental.items()}
        supp_specs.update(self.move_overflow_text(domain, table, origins))
        supp = self.to_supp(domain, table, supp_specs, origins)
        # DM's table stays whole: the domains built after it read it
        dataset, trace = self.to_dataset(domain, table, origins, methods,
                                         consume=table is not dm_table)
        if dataset.data.empty:
            return None
        return dataset, trace, supp

    def derive_domain(self, domain: str, table: pd.DataFrame, dm: pd.DataFrame
                      ) -> tuple[pd.DataFrame, dict[str, str]]:
        """Domain-level derivations the mapping asks for (LBLOBXFL, non-continuous ranges);
        returns the table and the define method of each variable derived."""
        mapping = next(m for m in self.config.domains if m.domain == domain)
        derived: dict[str, str] = {}
        for entry in mapping.derivations:
            if "noncontinuous_ranges" in entry:
                table, methods = derive.derive_noncontinuous_ranges(table, domain)
                derived.update(methods)
                continue
            params = entry["last_observation_before_exposure"]
            flag = params["flag"]
            table[flag] = derive.derive_last_obs_before_exposure(
                table, dm, params.get("date", f"{domain}DTC"),
                params.get("result", f"{domain}STRESC"), list(params.get("by", [])),
                params.get("reference", "RFXSTDTC"), f"{domain}SEQ")
            derived[flag] = derive.METHODS["LOBXFL"]
        return table, derived

    def derive_shared(self, domain: str, table: pd.DataFrame, dm: pd.DataFrame) -> pd.DataFrame:
        ds = self.specs.dataset(domain)
        rfstdtc = dm.set_index("USUBJID")["RFSTDTC"] if "RFSTDTC" in dm else pd.Series(dtype=object)
        for dtc, dy in derive.study_day_pairs(list(table.columns), ds.has_variable):
            table[dy] = derive.derive_study_day(table[dtc], table["USUBJID"], rfstdtc)
        start = derive.start_date_column(list(table.columns), domain)
        if "VISIT" in table and "VISITNUM" in table and start:
            table["VISITNUM"] = derive.derive_unscheduled_visitnum(table, start)
            table["VISIT"] = derive.derive_unscheduled_visit(table["VISIT"], table["VISITNUM"])
        if ds.has_variable("EPOCH") and self.config.epochs and start and domain != "DM":
            table["EPOCH"] = derive.derive_epoch(table[start], table["USUBJID"], dm,
                                                 self.config.epochs)
        seq = f"{domain}SEQ"
        if ds.has_variable(seq):
            keys = [k for k in ds.keys if k in table.columns and k != seq]
            # then every other value, so --SEQ does not depend on the order rows arrived in;
            # source file and row only separate records identical in every value
            rest = sorted(c for c in table.columns
                          if c not in keys and c not in (seq, FILE_COL, ROW_COL))
            # the keys compared as the dataset stores them (text "" for missing, Num as
            # numbers), so that --SEQ follows the dataset's sort order (see to_dataset)
            order = table[keys + rest + [FILE_COL, ROW_COL]].assign(
                **{k: _as_stored(table[k], ds.variable(k).is_numeric) for k in keys})
            table[seq] = derive.derive_seq(order, keys + rest + [FILE_COL, ROW_COL], len(keys))
        return table

    def move_overflow_text(self, domain: str, table: pd.DataFrame,
                           origins: dict[str, str]) -> dict[str, dict]:
        """Text over 200 characters keeps its first 200 in the variable; the rest becomes
        SUPP-- columns of the table (QNAM AETERM1, ...). Returns their SUPP-- specs."""
        ds = self.specs.dataset(domain)
        specs = {}
        for v in ds.variables:
            if v.is_numeric or v.name not in table or table[v.name].dtype.kind == "f":
                continue
            first, rest = long_text.split_long_values(table[v.name])
            if not rest:
                continue
            table[v.name] = first
            for n, part in enumerate(rest, 1):
                qnam = long_text.overflow_qnam(v.name, n)
                table[SUPP_PREFIX + qnam] = part
                origins[SUPP_PREFIX + qnam] = origins.get(v.name, "Collected")
                specs[qnam] = {"label": long_text.overflow_label(v.label, n), "eval": ""}
        return specs

    def to_supp(self, domain: str, table: pd.DataFrame, specs: dict[str, dict],
                origins: dict[str, str]) -> Dataset | None:
        """SUPP-- records (one per parent record per QNAM with a value), keyed by --SEQ."""
        seq = f"{domain}SEQ"
        parts = []
        for qnam, spec in specs.items():
            values = text_column(table[SUPP_PREFIX + qnam])
            has = values != ""
            if not has.any():
                continue
            origin = origins.get(SUPP_PREFIX + qnam, "Collected")
            parts.append(pd.DataFrame({
                "STUDYID": table.loc[has, "STUDYID"], "RDOMAIN": domain,
                "USUBJID": table.loc[has, "USUBJID"],
                "IDVAR": seq if seq in table else "",
                "IDVARVAL": table.loc[has, seq].astype(int).astype(str) if seq in table else "",
                "QNAM": qnam, "QLABEL": spec["label"], "QVAL": values[has],
                "QORIG": QORIG.get(origin, origin), "QEVAL": spec["eval"],
                "__seq": table.loc[has, seq] if seq in table else 0.0}))
        if not parts:
            return None
        data = pd.concat(parts, ignore_index=True)
        data = data.sort_values(["USUBJID", "__seq", "QNAM"], kind="stable").drop(columns="__seq")
        spec = self.specs.dataset(f"SUPP{domain}")
        columns = [Column(v.name, v.label, v.type, core=v.core,
                          origin=Origin("Assigned") if v.name != "QVAL" else Origin("Collected",
                                                                                    "Investigator"))
                   for v in spec.variables if v.name in data.columns]
        data = data[[c.name for c in columns]].reset_index(drop=True).astype(object)
        return Dataset(name=spec.name, label=spec.label, columns=columns, data=data,
                       keys=spec.keys, dataset_class=spec.dataset_class,
                       structure=spec.structure, standard=spec.standard)

    def _providers(self, forms: dict[str, str]) -> dict[str, str]:
        """Variable -> who collected it (the provider of the first form that maps it)."""
        return {var: self.config.sources[form].provider for var, form in forms.items()}

    @staticmethod
    def _forms(outs: list[BlockOutput]) -> dict[str, str]:
        """Variable -> the source alias of the first form that maps it."""
        out: dict[str, str] = {}
        for o in outs:
            for var in o.values:
                out.setdefault(var, o.block.source)
        return out

    def _crf_pages(self, forms: dict[str, str]) -> dict[str, tuple[str, str]]:
        """Variable -> (annotated CRF leaf, pages of its form), when the study has an aCRF."""
        crf = self.config.annotated_crf
        if not crf:
            return {}
        return {var: (ACRF_LEAF, crf["pages"][form]) for var, form in forms.items()
                if form in crf["pages"]}

    def _built_in_comments(self, domain: str) -> dict[str, str]:
        """Sponsor decisions the configuration states once for every domain: the EPOCH
        windows (study.yaml epochs)."""
        if not self.config.epochs or domain == "DM":
            return {}
        return {"EPOCH": derive.epoch_rules_text(self.config.epochs)}

    def _coded(self, domain: str, name: str) -> bool:
        """A variable coded with an external dictionary (MedDRA terms): Assigned by the
        sponsor's coding, not collected."""
        return any(spec["coded_by_sponsor"] and (
            name in spec["variables"] or f"{domain}.{name}" in spec["variables"])
            for spec in self.config.dictionaries.values())

    def to_dataset(self, domain: str, table: pd.DataFrame, origins: dict[str, str],
                   methods: dict[str, str], consume: bool = False
                   ) -> tuple[Dataset, pd.DataFrame]:
        """The Dataset of a domain's table; with consume, the table's columns are deleted as
        the dataset's are made (no second copy of a large domain)."""
        ds = self.specs.dataset(domain)
        providers = self.providers.get(domain, {})
        comments = {**self._built_in_comments(domain), **self.comments.get(domain, {})}
        derived = {"USUBJID": "USUBJID", f"{domain}SEQ": "SEQ", "EPOCH": "EPOCH"}
        columns: list[Column] = []
        for v in ds.variables:
            if v.name not in table.columns and v.core not in ("Req", "Exp"):
                continue
            if v.name not in table.columns:
                table[v.name] = np.nan if v.is_numeric else ""
            if v.name in ("STUDYID", "DOMAIN"):
                origin, method = Origin("Assigned"), None
            elif v.name in derived or v.name.endswith("DY") and v.name not in origins:
                key = derived.get(v.name, "DY")
                origin, method = Origin("Derived"), derive.METHODS[key]
            elif v.name == "SUBJID":
                origin, method = Origin("Collected", "Investigator"), None
            elif self._coded(domain, v.name) and origins.get(v.name) == "Collected":
                origin, method = Origin("Assigned", "Sponsor"), None
            else:
                # a variable no rule fills is left empty to complete the dataset: Assigned
                kind = origins.get(v.name, "Assigned")
                source = providers.get(v.name, "Investigator") if kind == "Collected" else None
                pages = self.pages.get(domain, {}).get(v.name) if kind == "Collected" else None
                method = methods.get(v.name) if kind == "Derived" else None
                if kind == "Derived" and not method:
                    method = f"Derived by the {domain} mapping rule for {v.name}."
                origin = Origin(kind, source, pages=pages)
            columns.append(Column(name=v.name, label=v.label, type=v.type,
                                  codelist=v.codelist if v.codelist in self.specs.codelists
                                  else None, origin=origin, method=method, core=v.core,
                                  value_domain=v.value_domain, comment=comments.get(v.name)))
        names = [c.name for c in columns]
        check_metadata(domain, columns, self.specs)
        table = sorted_typed_table(domain, columns, table if consume else table.copy(deep=False),
                                   _record_order(ds, names, domain))
        seq = f"{domain}SEQ"
        trace = pd.DataFrame({"domain": domain, "USUBJID": table["USUBJID"],
                              "seq": table[seq] if seq in table else np.nan,
                              "source_file": table[FILE_COL], "source_row": table[ROW_COL]})
        data = table[names]
        del table  # data holds its columns; the source file and row live on in the trace
        columns = _sponsor_test_codes(domain, ds, columns, data)
        dataset = Dataset(name=domain, label=ds.label, columns=columns, data=data,
                          keys=tuple(k for k in (*ds.keys, seq) if k in names),
                          dataset_class=ds.dataset_class, structure=ds.structure,
                          standard=ds.standard, trace=trace)
        return dataset, trace


def sorted_typed_table(domain: str, columns: list[Column], table: pd.DataFrame,
                       by: list[str]) -> pd.DataFrame:
    """typed_table(domain, columns, table) plus the source file and row, stably sorted by
    `by`, with a 0..n-1 index. Built one column at a time, each unsorted column deleted from
    `table` (which is consumed) once its sorted copy exists: a large domain is not held twice.
    Text cells of one value share one str object (see shared_in_order)."""
    by_name = {c.name: c for c in columns}

    def typed(name: str) -> pd.Series:
        if name not in by_name:  # the source file and row
            return table[name]
        return typed_table(domain, [by_name[name]], table)[name]

    keys = pd.DataFrame({k: typed(k) for k in by}, copy=False)
    found = derive.sorted_positions(keys, by)
    order = keys.reset_index(drop=True).sort_values(by, kind="stable").index.to_numpy() \
        if found is None else found[0]
    del keys
    out = {}
    for name in [*by_name, FILE_COL, ROW_COL]:
        values = typed(name)
        del table[name]
        out[name] = shared_in_order(values, order) if name in by_name and \
            by_name[name].type == "Char" else values.take(order).reset_index(drop=True)
    return pd.DataFrame(out, copy=False)


def shared_in_order(values: pd.Series, order: np.ndarray) -> pd.Series:
    """A text column's values at the positions `order` (0..n-1 index), one str object per
    distinct value: derivations that fill a value per row (mask, where) make a new object per
    cell, which for a lab domain of millions of records costs hundreds of megabytes."""
    found = value_codes(values) if values.dtype == object else None
    if found is None:  # not str only
        codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
        distinct = distinct.astype(object)
    else:  # shared objects are told apart by address, the strings hashed once per object
        codes, distinct = found.codes, values.to_numpy()[found.first]
    return pd.Series(distinct[codes[order]], name=values.name, dtype=object)


def _bookkeeping(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns that follow a record back to its raw row; a copy, as a view could keep
    every joined raw column alive."""
    return frame[[FILE_COL, ROW_COL, SUBJ]].copy()


def _release_raw(raw: dict[str, pd.DataFrame], needed: set[str]) -> None:
    """Raw forms no block still to map reads keep only what mark_mapped needs (row, subject)."""
    for alias, df in raw.items():
        if alias not in needed and df.shape[1] > 2:
            raw[alias] = df[[ROW_COL, SUBJ]].copy()


def _trace_views(datasets: dict[str, Dataset], trace: pd.DataFrame) -> None:
    """Each dataset's trace as its slice of the study's trace (concatenated in domain order):
    a view, not a second copy of every record's source."""
    start = 0
    for ds in datasets.values():
        if ds.trace is None:
            continue
        stop = start + len(ds.trace)
        ds.trace = trace.iloc[start:stop].reset_index(drop=True)
        start = stop


def _sponsor_test_codes(domain: str, ds: DatasetSpec, columns: list[Column],
                        data: pd.DataFrame) -> list[Column]:
    """A Findings --TESTCD for which the IG names no CDISC codelist (PCTESTCD, IETESTCD: the
    sponsor's own tests) gets the sponsor's codelist in define.xml: every code used, decoded
    by its --TEST (only when each code has one name)."""
    code, name = f"{domain}TESTCD", f"{domain}TEST"
    if ds.dataset_class.upper() not in ("FINDINGS", "FINDINGS ABOUT") or \
            code not in data or name not in data:
        return columns
    pairs = pd.DataFrame({"code": text_column(data[code]), "name": text_column(data[name])},
                         copy=False).drop_duplicates()  # first: filtering copies every row
    pairs = pairs[pairs["code"] != ""]
    if pairs.empty or pairs["code"].duplicated().any():
        return columns
    items = tuple(sorted(zip(pairs["code"], pairs["name"], strict=True)))
    return [replace(c, codelist=SponsorCodelist(f"CL.{code}", f"{ds.label} Test Code", "text",
                                                items))
            if c.name == code and c.codelist is None else c for c in columns]


class _LazyTables(dict):
    """Domain name -> table, each built on first use (dict lookups and `in` work as usual)."""

    def __init__(self, build, names) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self._build = build
        self._names = set(names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __missing__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        table = self[name] = self._build(name)
        return table


def _source_column(block: RecordBlock, rule: dict, depth: int = 0) -> str | None:
    """The raw column behind a rule, following references to variables mapped earlier in the
    block (LBSTRESN -> LBORRES -> RESULT), so rejects show the value as collected."""
    refs = registry.rule_columns(rule)
    if refs:
        return refs[0]
    _, params = registry.rule_algorithm(rule)
    if isinstance(params, dict) and depth < 5:
        ref = params.get("value") or params.get("variable")
        if isinstance(ref, str) and ref in block.variables:
            return _source_column(block, block.variables[ref], depth + 1)
    return None


def _as_stored(values: pd.Series, numeric: bool) -> pd.Series:
    """A variable's values as Dataset.data will hold them, for ordering."""
    return pd.to_numeric(values, errors="coerce").astype("float64") if numeric \
        else text_column(values)


def _record_order(ds: DatasetSpec, names: list[str], domain: str) -> list[str]:
    """The columns that sort a domain's records: its keys, then --SEQ. --SEQ numbers each
    subject's records in key order (derive_shared), so when the keys start with USUBJID
    (after the constant STUDYID) USUBJID and --SEQ alone give the same order, sorting two
    columns instead of every key."""
    keys = [k for k in ds.keys if k in names]
    seq = f"{domain}SEQ"
    if seq not in names:
        return keys + [FILE_COL, ROW_COL]
    if [k for k in keys if k != "STUDYID"][:1] == ["USUBJID"]:
        return ["USUBJID", seq]
    return keys + [seq, FILE_COL, ROW_COL]


def _merge_origins(outs: list[BlockOutput]) -> dict[str, str]:
    """One origin per variable: Collected if any block collects it (define shows one origin)."""
    merged: dict[str, str] = {}
    rank = {"Collected": 3, "Derived": 2, "Assigned": 1}
    for o in outs:
        for var, kind in o.origins.items():
            if rank.get(kind, 0) > rank.get(merged.get(var, ""), -1):
                merged[var] = kind
    return merged


def map_study(config: StudyConfig, raw_dir: Path, specs: Specs) -> MappingResult:
    return Engine(config, specs).run(raw_dir)
