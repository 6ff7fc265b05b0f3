"""Benchmark the pipeline stage by stage on the synthetic demo study at several sizes.

    python -m benchmarks.run [--sizes 1000,10000] [--out benchmarks/results] [--md BENCHMARKS.md]
                             [--cli-only-from 100000]

Per size N (subjects), in a scratch folder:

1. ``cdisc demo RAW --subjects N`` (timed; raw rows and bytes counted);
2. one fresh child process runs the stages one after another (time and peak RSS per stage);
3. the real CLI, ``cdisc run RAW --out OUT --format xpt``, in its own process (wall, peak RSS);
4. a second child measures the pyreadstat floor: read every raw file plainly, then write the
   same output tables with pyreadstat (only the reads and the writes are timed);
5. a third child measures the disk's sequential bandwidth on a scratch file (write + fsync, drop
   from the page cache, read back) for the physical floor: raw bytes / read bandwidth + bytes
   written by ``cdisc run`` / write bandwidth.

Sizes >= --cli-only-from skip steps 2 and 4. Results go to OUT/N.json and a markdown report.
Standard library + the project's dependencies. Peak RSS: VmHWM from /proc/self/status, reset
between stages by writing "5" to /proc/self/clear_refs; where that is refused, a thread samples
VmRSS every 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import functools
import gc
import importlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RAW_SUFFIXES = (".csv", ".xpt", ".sas7bdat")
MIB = 1024.0  # KiB per MiB
MB = 1e6  # bandwidths are in MB/s (decimal)
DISK_BLOCK = 8 * 2**20  # bytes per write / read call of the disk bandwidth probe
DISK_MIN, DISK_MAX = 64 * 2**20, 2**30  # scratch file: 2x the raw bytes, within these bounds

# Targets: (subjects they apply to, what, summary key, limit, unit).  A target is met when the
# measured value is <= the limit; at other sizes the values are shown without a verdict.
TARGETS = (
    (10_000, "`cdisc run` wall / pyreadstat floor", "ratio_cli_floor", 1.0, "x"),
    (10_000, "`cdisc run` wall", "cli_wall_s", 60.0, " s"),
    (10_000, "peak RSS (CLI and every stage)", "peak_rss_mib", 1536.0, " MiB"),
    (100_000, "completes; peak RSS (CLI, and every stage if measured)", "peak_rss_mib", 8192.0,
     " MiB"),
)

# Functions inside the real code path that are wrapped (in the stage child only) so that a
# stage can be split into parts: (module, attribute, part).  A probe that no longer exists is
# skipped and its time stays in the stage's remainder; the JSON says which probes were active.
PROBES = (
    ("cdisc.define", "build_define", "define"),
    ("cdisc.define_html", "render_define_html", "define"),
    ("cdisc.pipeline", "write_reports", "reports"),
    ("cdisc.adam.km", "write_km_outputs", "km"),
    ("cdisc.validate.package", "package_of", "read"),
    ("cdisc.validate.suites", "run_suites", "gx"),
    ("cdisc.validate.core.runner", "run_catalogue", "rules"),
    ("cdisc.validate.report", "write_reports", "reports"),
)

# Table rows: (stage, part) -> (row label, what the row measures).  "rest" is what is left of a
# stage once its probed parts are taken out.
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("import", "rest", "import",
     "importing cdisc, pandas, pyreadstat, great_expectations in the fresh child"),
    ("read", "rest", "read raw",
     "cdisc.io.raw.read_raw on every raw file (a separate plain pass; rows = raw rows)"),
    ("map", "rest", "map SDTM",
     "cdisc.pipeline.map_raw (reads the raw files again itself) + the data-cut creation stamp; "
     "rows = raw rows"),
    ("write_sdtm", "rest", "write SDTM XPT",
     "write_sdtm minus its define and reports parts: the XPT files (rows = SDTM records)"),
    ("write_sdtm", "define", "write SDTM define",
     "build_define + render_define_html inside write_sdtm (define.xml, define.html); "
     "rows = SDTM records"),
    ("write_sdtm", "reports", "write SDTM reports",
     "rejects.csv, reconciliation.csv, trace.csv inside write_sdtm; rows = SDTM records"),
    ("adam", "rest", "derive ADaM",
     "cdisc.adam.build.run_adam on the SDTM tables just written, in memory as read back "
     "(as cdisc run does); rows = ADaM records"),
    ("write_adam", "rest", "write ADaM XPT",
     "write_adam minus its define and KM parts: the XPT files (rows = ADaM records)"),
    ("write_adam", "define", "write ADaM define",
     "build_define + render_define_html in write_adam; rows = ADaM records"),
    ("write_adam", "km", "write ADaM KM",
     "Kaplan-Meier summary CSV and plot in write_adam; rows = ADaM records"),
    ("validate", "read", "validate: read",
     "cdisc.pipeline.validate_outputs on the whole package (SDTM and ADaM at once) from the "
     "tables just written (package_of, as cdisc run does; cdisc validate reads the files "
     "instead); rows = SDTM + ADaM records (all five validate rows)"),
    ("validate", "gx", "validate: GX suites", "its run_suites part: the GX suites from specs/"),
    ("validate", "rules", "validate: rules",
     "its run_catalogue part: the rule catalogue (CORE SDTMIG 3.4 + our own rules)"),
    ("validate", "reports", "validate: reports",
     "its write_reports part: JSON, JUnit, HTML, SARIF and Excel reports"),
    ("validate", "rest", "validate: other", "the rest (study and library set-up, lists)"),
)
PIPELINE_STAGES = ("map", "write_sdtm", "adam", "write_adam", "validate")


# --------------------------------------------------------------------------- the coupling
def run_stages(raw_dir: Path, out_dir: Path, meter: Meter) -> dict[str, Any]:
    """The only function that knows the pipeline's building blocks (cf. cdisc.pipeline.run_all)."""
    from cdisc.adam.build import run_adam
    from cdisc.io.raw import read_raw
    from cdisc.paths import DEMO_MAPPING_DIR
    from cdisc.pipeline import map_raw, study_info, write_adam, write_sdtm
    import cdisc.pipeline as pipeline
    from cdisc.adam.inputs import DOMAINS as ADAM_INPUTS
    from cdisc.io.xpt import as_read_back

    formats = ("xpt",)
    sdtm_dir, adam_dir = out_dir / "sdtm", out_dir / "adam"
    files = sorted(p for p in raw_dir.iterdir() if p.suffix.lower() in RAW_SUFFIXES)
    with meter.stage("read") as st:
        raw_rows = {p.name: len(read_raw(p)) for p in files}  # each frame dropped at once
        st.rows = sum(raw_rows.values())
    with meter.stage("map", rows=sum(raw_rows.values())):
        specs, config, result = map_raw(raw_dir, DEMO_MAPPING_DIR)
        cut = getattr(pipeline, "data_cut_datetime", None)
        stamp = cut(result.datasets) if cut else "1960-01-01T00:00:00"
    sdtm_records = sum(len(ds.data) for ds in result.datasets.values())
    with meter.stage("write_sdtm", rows=sdtm_records):
        write_sdtm(sdtm_dir, specs, config, result, formats, stamp)
    with meter.stage("adam") as st:
        sdtm = {name: as_read_back(ds) for name, ds in result.datasets.items()
                if name in (*ADAM_INPUTS, "SUPPDM")}
        adam = run_adam(sdtm_dir, DEMO_MAPPING_DIR / "adam.yaml", None, sdtm)
        del sdtm
        st.rows = adam_records = sum(len(ds.data) for ds in adam.datasets.values())
    with meter.stage("write_adam", rows=adam_records):
        write_adam(adam_dir, adam, study_info(config), formats, stamp)
    with meter.stage("validate", rows=sdtm_records + adam_records):
        summary = pipeline.validate_outputs([sdtm_dir, adam_dir], out_dir / "validation",
                                            [result.datasets, adam.datasets])
    reported = {"package": {"summary": summary[-1] if summary else ""}}
    return {"raw_rows": raw_rows,
            "sdtm_records": {k: len(v.data) for k, v in sorted(result.datasets.items())},
            "adam_records": {k: len(v.data) for k, v in sorted(adam.datasets.items())},
            "validate_reported": reported}


# --------------------------------------------------------------------------- memory
def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


class Rss:
    """Peak resident memory since the last reset(), in KiB."""

    def __init__(self) -> None:
        self.method = "VmHWM reset via /proc/self/clear_refs"
        self._peak = 0
        try:
            self._clear()
            _status_kib("VmHWM")
        except OSError:
            self.method = "VmRSS sampled every 50 ms"
            try:
                self._peak = _status_kib("VmRSS")
                self._read: Callable[[], int] = lambda: _status_kib("VmRSS")
            except OSError:  # no /proc at all: ru_maxrss cannot be reset, so peaks are cumulative
                import resource

                self.method = "ru_maxrss (cumulative, not reset between stages)"
                self._read = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def _clear() -> None:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")

    def _sample(self) -> None:
        while True:
            self._peak = max(self._peak, self._read())
            time.sleep(0.05)

    def reset(self) -> None:
        if self.method.startswith("VmHWM"):
            self._clear()
        else:
            self._peak = self._read()

    def peak_kib(self) -> int:
        if self.method.startswith("VmHWM"):
            return _status_kib("VmHWM")
        return max(self._peak, self._read())


def _release_memory() -> None:
    """Between stages (untimed): collect garbage and hand freed heap back to the OS, so that a
    stage's peak is not inflated by what the previous stage freed but glibc kept."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Stage:
    def __init__(self, name: str, rows: int | None) -> None:
        self.name, self.rows = name, rows
        self.parts: dict[str, dict[str, float]] = {}
        self.wall_s = 0.0


class Meter:
    """Times stages; probes split a stage into parts, each with its own time and peak RSS."""

    def __init__(self) -> None:
        self.rss = Rss()
        self.stages: list[Stage] = []
        self._current: Stage | None = None
        self._labels: list[str] = []
        self._t0 = 0.0

    @contextlib.contextmanager
    def stage(self, name: str, rows: int | None = None) -> Iterator[Stage]:
        _release_memory()
        st = Stage(name, rows)
        self._current, self._labels = st, ["rest"]
        self.rss.reset()
        start = self._t0 = time.perf_counter()
        try:
            yield st
        finally:
            self._close_segment()
            st.wall_s = time.perf_counter() - start
            self._current = None
            self.stages.append(st)

    def _close_segment(self) -> None:
        assert self._current is not None
        elapsed = time.perf_counter() - self._t0
        part = self._current.parts.setdefault(self._labels[-1], {"s": 0.0, "kib": 0})
        part["s"] += elapsed
        part["kib"] = max(part["kib"], self.rss.peak_kib())
        self.rss.reset()
        self._t0 = time.perf_counter()

    def probe(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._current is None or threading.current_thread() is not threading.main_thread():
                return fn(*args, **kwargs)
            self._close_segment()
            self._labels.append(label)
            try:
                return fn(*args, **kwargs)
            finally:
                self._close_segment()
                self._labels.pop()

        return wrapper


def install_probes(meter: Meter) -> dict[str, bool]:
    active = {}
    for module, attr, label in PROBES:
        try:
            mod = importlib.import_module(module)
            fn = getattr(mod, attr)
        except (ImportError, AttributeError):
            active[f"{module}.{attr}"] = False
            continue
        setattr(mod, attr, meter.probe(label, fn))
        active[f"{module}.{attr}"] = True
    return active


# --------------------------------------------------------------------------- child processes
def child_stages(raw_dir: Path, out_dir: Path) -> dict[str, Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    meter = Meter()
    with meter.stage("import"):
        import pandas  # noqa: F401
        import pyreadstat  # noqa: F401

        import cdisc.pipeline  # noqa: F401
        import cdisc.validate.run  # noqa: F401

        with contextlib.suppress(ImportError):
            import great_expectations  # noqa: F401
        probes = install_probes(meter)
    info = run_stages(raw_dir, out_dir, meter)
    info["probes"] = probes
    info["rss_method"] = meter.rss.method
    info["stages"] = {s.name: {"wall_s": s.wall_s, "rows": s.rows, "parts": s.parts}
                      for s in meter.stages}
    return info


def child_floor(raw_dir: Path, out_dirs: list[Path], scratch: Path) -> dict[str, Any]:
    """Read the raw files plainly; write the pipeline's output tables again with pyreadstat."""
    import pandas as pd
    import pyreadstat

    import io

    pd.read_csv(io.StringIO("a,b\n1,2\n"), dtype=str)  # warm-up: lazy imports stay untimed
    rss = Rss()
    rss.reset()
    start = time.perf_counter()
    rows = 0
    for path in sorted(p for p in raw_dir.iterdir() if p.suffix.lower() in RAW_SUFFIXES):
        suffix = path.suffix.lower()
        if suffix == ".csv":
            df = pd.read_csv(path, dtype=str)
        elif suffix == ".xpt":
            df, _ = pyreadstat.read_xport(str(path))
        else:
            df, _ = pyreadstat.read_sas7bdat(str(path))
        rows += len(df)
        del df
    read_s = time.perf_counter() - start
    read_kib = rss.peak_kib()
    tables = []  # read back outside the timed part
    for folder in out_dirs:
        for path in sorted(folder.glob("*.xpt")):
            df, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
            tables.append((f"{folder.name}_{path.name}", meta.table_name or path.stem.upper(), df))
    _release_memory()
    scratch.mkdir(parents=True, exist_ok=True)
    rss.reset()
    start = time.perf_counter()
    for file_name, table_name, df in tables:
        pyreadstat.write_xport(df, str(scratch / file_name), table_name=table_name,
                               file_format_version=5)
    write_s = time.perf_counter() - start
    return {"read_s": read_s, "read_rows": rows, "read_peak_kib": read_kib,
            "write_s": write_s, "write_rows": sum(len(t[2]) for t in tables),
            "write_tables": len(tables), "write_peak_kib": rss.peak_kib()}


def _resident_fraction(fd: int, size: int) -> float | None:
    """Share of the file's pages in the page cache (mincore on a mapping), or None."""
    import mmap

    pages = -(-size // mmap.PAGESIZE)
    vec = (ctypes.c_ubyte * pages)()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        with mmap.mmap(fd, size, access=mmap.ACCESS_COPY) as mm:
            buf = ctypes.c_char.from_buffer(mm)  # only to get the mapping's address
            rc = libc.mincore(ctypes.c_void_p(ctypes.addressof(buf)), ctypes.c_size_t(size), vec)
            del buf
    except (OSError, AttributeError, ValueError):
        return None
    return sum(b & 1 for b in vec) / pages if rc == 0 else None


def child_disk(path: Path, size: int) -> dict[str, Any]:
    """Sequential bandwidth of the disk holding path: write size bytes in DISK_BLOCK blocks and
    fsync (timed together), drop the file from the page cache, read it back (timed)."""
    block = os.urandom(DISK_BLOCK)  # incompressible, in case the storage compresses
    size = -(-size // DISK_BLOCK) * DISK_BLOCK
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            start = time.perf_counter()
            for _ in range(size // DISK_BLOCK):
                os.write(fd, block)
            os.fsync(fd)
            write_s = time.perf_counter() - start
            dropped = hasattr(os, "posix_fadvise")
            if dropped:  # the pages are clean after fsync, so the kernel can drop them
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        fd = os.open(path, os.O_RDONLY)
        try:
            resident = _resident_fraction(fd, size)
            buf = bytearray(DISK_BLOCK)
            start = time.perf_counter()
            while os.readv(fd, [buf]):
                pass
            read_s = time.perf_counter() - start
        finally:
            os.close(fd)
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return {"scratch_bytes": size, "write_s": write_s, "read_s": read_s,
            "write_mb_s": size / MB / write_s, "read_mb_s": size / MB / read_s,
            "dropped_from_cache": dropped, "resident_before_read": resident}


# --------------------------------------------------------------------------- parent
def _cdisc_command() -> list[str]:
    exe = Path(sys.executable).with_name("cdisc")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("cdisc")
    return [found] if found else [sys.executable, "-m", "cdisc.cli"]


OWN_CPU = [0.0]  # CPU seconds of the processes this benchmark ran (from wait4)


def _busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _run_measured(cmd: list[str], log: Path) -> tuple[float, float]:
    """Run cmd in its own process; (wall seconds, peak RSS MiB) from wait4's rusage."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    OWN_CPU[0] += usage.ru_utime + usage.ru_stime
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return wall, usage.ru_maxrss / MIB  # Linux: ru_maxrss in KiB


def _child(kind: str, args: list[str], work: Path) -> tuple[dict[str, Any], float, float]:
    result = work / f"{kind}.json"
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", kind, *args, "--result", str(result)]
    wall, peak = _run_measured(cmd, work / f"{kind}.log")
    return json.loads(result.read_text()), wall, peak


def machine() -> dict[str, Any]:
    import pandas
    import pyreadstat

    from cdisc import __version__

    mem_kib = 0
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem_kib = int(next(x for x in fh if x.startswith("MemTotal:")).split()[1])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                            capture_output=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "cdisc", "specs", "mappings"],
                           cwd=REPO, text=True, capture_output=True).stdout.strip()
    commit += " + uncommitted changes" if dirty else ""
    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "ram_gib": round(mem_kib / 1024 / 1024, 1),
            "platform": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "pandas": pandas.__version__,
            "pyreadstat": pyreadstat.__version__, "cdisc": __version__, "commit": commit}


def _row(stage: str, label: str, what: str, wall: float, rows: int | None,
         peak_kib: float) -> dict[str, Any]:
    return {"stage": label, "key": stage, "measures": what, "wall_s": round(wall, 3),
            "rows": rows, "rows_per_s": round(rows / wall) if rows and wall > 0 else None,
            "peak_rss_mib": round(peak_kib / MIB, 1)}


def _counts_from_logs(work: Path, cli_out: Path) -> dict[str, Any]:
    """For a CLI-only size (no stage child to count): raw rows from the `cdisc demo` log,
    records and the validation summary from the `cdisc run` log."""
    demo_log = (work / "demo.log").read_text(errors="replace")
    cli_log = (work / "cli.log").read_text(errors="replace")
    records = {m[1]: int(m[2]) for m in re.finditer(r"^([A-Z][A-Z0-9]*): (\d+) records,",
                                                    cli_log, re.M)}
    in_folder = lambda folder: {k: v for k, v in sorted(records.items())  # noqa: E731
                                if (cli_out / folder / f"{k.lower()}.xpt").exists()}
    summary = next((x for x in cli_log.splitlines() if x.startswith("validation:")), "")
    return {"raw_rows": {m[1]: int(m[2]) for m in re.finditer(r"^(\S+): (\d+) rows$",
                                                              demo_log, re.M)},
            "sdtm_records": in_folder("sdtm"), "adam_records": in_folder("adam"),
            "validate_reported": {"package": {"summary": summary}},
            "probes": {}, "rss_method": None}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The TARGETS that apply at this result's size, with the measured value and verdict."""
    out = []
    for subjects, what, key, limit, unit in TARGETS:
        if subjects != result["subjects"]:
            continue
        value = result["summary"].get(key)
        out.append({"key": key, "limit": limit, "subjects": subjects, "target": what,
                    "unit": unit, "value": value,
                    "met": None if value is None else value <= limit})
    return out


def bench_size(n: int, work: Path, cli_only: bool) -> dict[str, Any]:
    raw, out, cli_out = work / "raw", work / "stages", work / "cli"
    busy_start, own_start, wall_start = _busy_cpu_seconds(), OWN_CPU[0], time.perf_counter()
    print(f"[{n}] cdisc demo", flush=True)
    demo_wall, demo_peak = _run_measured([*_cdisc_command(), "demo", str(raw), "--subjects",
                                          str(n)], work / "demo.log")
    files = sorted(p for p in raw.iterdir() if p.suffix.lower() in RAW_SUFFIXES)
    raw_bytes = {p.name: p.stat().st_size for p in files}

    st: dict[str, Any] | None = None
    st_wall = st_peak = pipe_wall = pipe_peak = None
    stage_rows: list[dict[str, Any]] = []
    if not cli_only:
        print(f"[{n}] stages (child process)", flush=True)
        st, st_wall, st_peak = _child("stages", [str(raw), str(out)], work)
        for stage, part, label, what in ROWS:
            info = st["stages"].get(stage)
            if info is None or part not in info["parts"]:
                continue
            p = info["parts"][part]
            stage_rows.append(_row(stage, label, what, p["s"], info["rows"], p["kib"]))
        pipe = [st["stages"][s] for s in PIPELINE_STAGES]
        pipe_wall = sum(s["wall_s"] for s in pipe)
        pipe_peak = max(p["kib"] for s in pipe for p in s["parts"].values())

    print(f"[{n}] cdisc run (CLI)", flush=True)
    cli_cmd = [*_cdisc_command(), "run", str(raw), "--out", str(cli_out), "--format", "xpt"]
    cli_wall, cli_peak = _run_measured(cli_cmd, work / "cli.log")
    counts = st or _counts_from_logs(work, cli_out)
    raw_rows = sum(counts["raw_rows"].values()) or None
    rows = [_row("demo", "cdisc demo (generate)",
                 "`cdisc demo RAW --subjects N` process; rows = raw rows",
                 demo_wall, raw_rows, demo_peak * MIB), *stage_rows]
    if st:
        rows.append(_row("pipeline", "pipeline (sum of stages)",
                         "map SDTM .. validate above, one process (read-raw pass and import "
                         "excluded); rows = raw rows", pipe_wall, raw_rows, pipe_peak))
    rows.append(_row("cli", "cdisc run (CLI)", "`cdisc run RAW --out OUT --format xpt` process: "
                     "interpreter start, imports, all stages, validation reports, manifest; "
                     "rows = raw rows", cli_wall, raw_rows, cli_peak * MIB))

    floor_wall = None
    if st:
        print(f"[{n}] pyreadstat floor (child process)", flush=True)
        fl, _, _ = _child("floor", [str(raw), str(out / "sdtm"), str(out / "adam"),
                                    str(work / "floor_out")], work)
        floor_wall = fl["read_s"] + fl["write_s"]
        rows += [
            _row("floor_read", "floor: read raw", "pandas.read_csv(dtype=str) / pyreadstat of "
                 "every raw file", fl["read_s"], fl["read_rows"], fl["read_peak_kib"]),
            _row("floor_write", "floor: write XPT", "pyreadstat.write_xport of the pipeline's "
                 "output tables (read back untimed), same table names", fl["write_s"],
                 fl["write_rows"], fl["write_peak_kib"]),
            _row("floor", "floor (read + write)", "sum of the two rows above (the pyreadstat "
                 "floor)", floor_wall, None, max(fl["read_peak_kib"], fl["write_peak_kib"])),
        ]

    print(f"[{n}] disk bandwidth (child process)", flush=True)
    written = [p.stat().st_size for p in cli_out.rglob("*") if p.is_file()]
    scratch = min(DISK_MAX, max(DISK_MIN, 2 * sum(raw_bytes.values())))
    disk, _, _ = _child("disk", [str(work / "disk-scratch.bin"), str(scratch)], work)
    disk.update(bytes_read=sum(raw_bytes.values()), bytes_written=sum(written),
                files_written=len(written))
    physical = (disk["bytes_read"] / MB / disk["read_mb_s"]
                + disk["bytes_written"] / MB / disk["write_mb_s"])
    disk = {k: round(v, 3) if isinstance(v, float) else v for k, v in disk.items()}

    peak = max([cli_peak, *(r["peak_rss_mib"] for r in stage_rows)])
    busy_end = _busy_cpu_seconds()
    other_cpu = (round(max(0.0, busy_end - busy_start - (OWN_CPU[0] - own_start)), 1)
                 if busy_start is not None and busy_end is not None else None)
    result = {
        "subjects": n,
        "cli_only": cli_only,
        "raw": {"files": {k: {"rows": counts["raw_rows"].get(k), "bytes": raw_bytes[k]}
                          for k in sorted(raw_bytes)},
                "rows": raw_rows, "bytes": sum(raw_bytes.values())},
        "sdtm_records": counts["sdtm_records"], "adam_records": counts["adam_records"],
        "rows": rows,
        "disk": disk,
        "summary": {
            "pipeline_wall_s": None if pipe_wall is None else round(pipe_wall, 3),
            "cli_wall_s": round(cli_wall, 3), "cli_peak_rss_mib": round(cli_peak, 1),
            "floor_wall_s": None if floor_wall is None else round(floor_wall, 3),
            "ratio_pipeline_floor": _ratio(pipe_wall, floor_wall),
            "ratio_cli_floor": _ratio(cli_wall, floor_wall),
            "physical_floor_s": round(physical, 3),
            "ratio_pipeline_physical": _ratio(pipe_wall, physical),
            "ratio_cli_physical": _ratio(cli_wall, physical),
            "peak_rss_mib": round(peak, 1),
            "stage_child_peak_rss_mib": None if st_peak is None else round(st_peak, 1),
            "stage_child_wall_s": None if st_wall is None else round(st_wall, 3)},
        "validate_reported": counts["validate_reported"],
        "probes": counts["probes"], "rss_method": counts["rss_method"],
        "contention": {"wall_s": round(time.perf_counter() - wall_start, 1),
                       "other_cpu_s": other_cpu},
    }
    result["targets"] = targets(result)
    return result


# --------------------------------------------------------------------------- markdown
def _fmt(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _machine_text(m: dict[str, Any]) -> str:
    return (f"{m['nproc']} CPUs, {m['ram_gib']} GiB RAM, {m['platform']}; Python {m['python']}, "
            f"pandas {m['pandas']}, pyreadstat {m['pyreadstat']}, cdisc {m['cdisc']}")


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def _number(value: float, unit: str) -> str:
    return f"{value:,.{ {'x': 2, ' s': 1}.get(unit, 0)}f}{unit}"


def _target_text(t: dict[str, Any]) -> str:
    limit = f"{t['limit']:.1f}" if t["unit"] == "x" else f"{t['limit']:g}"
    return f"{t['target']} <= {limit}{t['unit']}"


def _value_text(t: dict[str, Any]) -> str:
    return "" if t["value"] is None else _number(t["value"], t["unit"])


def _x(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def render(results: list[dict[str, Any]], argv: str) -> str:
    results = sorted(results, key=lambda r: r["subjects"])
    m = results[0]["machine"]
    staged = [r for r in results if not r.get("cli_only")]
    rss_method = staged[0]["rss_method"] if staged else "ru_maxrss from wait4 (per process)"
    lines = ["# Benchmarks", "", f"Generated by `{argv}`.", "", f"Machine: {_machine_text(m)}.", "",
             "Data: `cdisc demo --subjects N` (the synthetic NCT04265963 study). Stage rows come "
             "from one fresh child process per size running the stages in order (see the legend "
             f"at the end); peak RSS: {rss_method}, between stages garbage is collected and freed "
             "heap returned to the OS (untimed).", ""]

    lines += ["## Targets", "", "| target | subjects | measured | result |", "|---|---:|---:|---|"]
    by_n = {r["subjects"]: r for r in results}
    for subjects, what, key, limit, unit in TARGETS:
        found = [t for t in targets(by_n[subjects]) if t["key"] == key and t["limit"] == limit] \
            if subjects in by_n else []
        t = found[0] if found else {"target": what, "limit": limit, "unit": unit, "value": None,
                                    "met": None}
        lines.append(f"| {_target_text(t)} | {subjects:,} | {_value_text(t)} | "
                     f"{_verdict(t['met'])} |")
    lines.append("")

    for r in results:
        s, raw, disk = r["summary"], r["raw"], r.get("disk")
        rows_text = f"{raw['rows']:,} rows, " if raw.get("rows") else ""
        lines += [f"## {r['subjects']:,} subjects", "",
                  f"Measured on {r['date']} at commit {r['machine']['commit']} by "
                  f"`{r.get('command', argv)}`"
                  + ("" if _machine_text(r["machine"]) == _machine_text(m)
                     else f" (machine: {_machine_text(r['machine'])})")
                  + ".", "",
                  f"Raw: {len(raw['files'])} files, {rows_text}{raw['bytes'] / 2**20:.1f} MiB. "
                  f"SDTM: {sum(r['sdtm_records'].values()):,} records in "
                  f"{len(r['sdtm_records'])} datasets; ADaM: "
                  f"{sum(r['adam_records'].values()):,} records.", ""]
        if r.get("cli_only"):
            lines += ["CLI-only size (`--cli-only-from`): the per-stage child and the pyreadstat "
                      "floor were not run, so the stage rows and the pyreadstat floor are "
                      "omitted; only `cdisc demo`, `cdisc run` and the disk bandwidth were "
                      "measured.", ""]
        lines += ["| stage | wall s | rows | rows/s | peak RSS MiB |", "|---|---:|---:|---:|---:|"]
        for row in r["rows"]:
            name = f"**{row['stage']}**" if row["key"] in ("pipeline", "cli", "floor") \
                else row["stage"]
            lines.append(f"| {name} | {_fmt(row['wall_s'])} | {_fmt(row['rows'])} | "
                         f"{_fmt(row['rows_per_s'])} | {_fmt(row['peak_rss_mib'], 0)} |")
        lines += ["", "| floor | seconds | CLI / floor | pipeline / floor |",
                  "|---|---:|---:|---:|"]
        if s.get("floor_wall_s") is not None:
            lines.append(f"| pyreadstat (read raw + write XPT) | {s['floor_wall_s']:.2f} | "
                         f"{_x(s['ratio_cli_floor'])} | {_x(s['ratio_pipeline_floor'])} |")
        if s.get("physical_floor_s") is not None:
            lines.append(f"| physical (disk bandwidth) | {s['physical_floor_s']:.2f} | "
                         f"{_x(s['ratio_cli_physical'])} | {_x(s['ratio_pipeline_physical'])} |")
        pipeline = ("" if s.get("pipeline_wall_s") is None
                    else f"; pipeline (sum of stages): {s['pipeline_wall_s']:.2f} s")
        peak_of = ("the CLI; no stage rows at this size" if r.get("cli_only")
                   else "max of the CLI and every stage row from import to validate")
        lines += ["", f"- `cdisc run` CLI: {s['cli_wall_s']:.2f} s{pipeline}",
                  f"- peak RSS: {s['peak_rss_mib']:,.0f} MiB ({peak_of})"]
        if disk:
            resident = disk["resident_before_read"]
            cached = ("could not check how much was still in the page cache" if resident is None
                      else f"{resident:.0%} of it in the page cache before the read")
            lines += [f"- disk: write {disk['write_mb_s']:,.0f} MB/s, read "
                      f"{disk['read_mb_s']:,.0f} MB/s (scratch file of "
                      f"{disk['scratch_bytes'] / 2**20:,.0f} MiB; {cached})",
                      f"- physical floor: {disk['bytes_read'] / MB:,.1f} MB read (the raw files) "
                      f"/ read bandwidth + {disk['bytes_written'] / MB:,.1f} MB written (the "
                      f"{disk['files_written']} files `cdisc run` wrote under OUT) / write "
                      f"bandwidth = {s['physical_floor_s']:.2f} s"]
        lines += [f"- target: {_target_text(t)}: {_value_text(t)}, {_verdict(t['met'])}"
                  for t in targets(r)]
        lines.append("- " + ((r["validate_reported"].get("package") or {}).get("summary")
                             or "validation: (no summary)"))
        c = r.get("contention") or {}
        if c.get("other_cpu_s") is not None:
            share = c["other_cpu_s"] / c["wall_s"] if c["wall_s"] else 0.0
            note = " (other processes competed for the CPUs: expect noise)" if share > 0.1 else ""
            lines.append(f"- CPU used by other processes during this size: "
                         f"{c['other_cpu_s']:.0f} s over {c['wall_s']:.0f} s wall = "
                         f"{share:.2f} CPUs{note}")
        lines.append("")

    reference = max(results, key=lambda r: len(r["rows"]))["rows"]  # a staged size if any
    if len(results) > 1:
        sizes = [r["subjects"] for r in results]
        head = " | ".join(f"t({b})/t({a}) (ideal {b / a:.3g}x)" for a, b in zip(sizes, sizes[1:]))
        lines += ["## Scaling", "",
                  "Time ratio between consecutive sizes per stage; linear scaling gives the "
                  "size ratio (blank where a size lacks the row).", "", f"| stage | {head} |",
                  "|---|" + "---:|" * (len(sizes) - 1)]
        by_size = [{row["stage"]: row["wall_s"] for row in r["rows"]} for r in results]
        for row in reference:
            cells = []
            for small, big in zip(by_size, by_size[1:]):
                a, b = small.get(row["stage"]), big.get(row["stage"])
                cells.append(f"{b / a:.1f}x" if a and b is not None and a >= 0.005 else "")
            lines.append(f"| {row['stage']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Legend: what each row measures", ""]
    for row in reference:
        lines.append(f"- **{row['stage']}**: {row['measures']}")
    lines += [
        "- **pyreadstat floor** (floors table): the **floor (read + write)** row, measured in "
        "the same run as the CLI (not at CLI-only sizes).",
        "- **physical floor**: raw bytes / read bandwidth + bytes of every file `cdisc run` "
        "wrote under OUT / write bandwidth. The bandwidths come from a child process that writes "
        f"a scratch file (2x the raw bytes, {DISK_MIN // 2**20} MiB to {DISK_MAX // 2**30} GiB, "
        f"in {DISK_BLOCK // 2**20} MiB blocks of random bytes) in the work folder, next to RAW "
        "and OUT, then fsyncs it (write = write + fsync), drops it from the page cache with "
        "`posix_fadvise(DONTNEED)`, checks with `mincore` how much of it is still cached, reads "
        "it back (read) and deletes it. MB = 10^6 bytes. The CLI does not fsync and its raw reads "
        "may come from the page cache (`cdisc demo` has just written the files), so it can beat "
        "this floor; on a virtual machine the host may cache the disk as well, which no check "
        "inside the guest can see."]
    cached = [f"{r['subjects']:,}" for r in results if r.get("disk")
              and (r["disk"]["resident_before_read"] is None
                   or r["disk"]["resident_before_read"] > 0.05)]
    if cached:
        lines.append(f"- At {', '.join(cached)} subjects the scratch file was (or may have been) "
                     "still in the page cache when read back: that read bandwidth is the cache's, "
                     "not the disk's.")
    probes = staged[-1]["probes"] if staged else {}
    if probes:
        missing = [k for k, v in probes.items() if not v]
        lines += ["", "Stage parts are measured by wrapping "
                  + ", ".join(f"`{k}`" for k in probes if probes[k])
                  + " in the stage child" + (f"; missing (time left in the remainder): "
                                             f"{', '.join(missing)}" if missing else "") + "."]
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help="subjects, comma-separated (default 1000,10000; with "
                        "--render-only: every OUT/N.json)")
    parser.add_argument("--cli-only-from", type=int, default=100_000, metavar="N",
                        help="sizes >= N run only cdisc demo, cdisc run and the disk bandwidth "
                        "(no stage child, no pyreadstat floor); default 100000, 0 = every size")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"),
                        help="folder for N.json")
    parser.add_argument("--md", type=Path, default=Path("BENCHMARKS.md"), help="markdown report")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--render-only", action="store_true",
                        help="only rewrite --md from existing OUT/N.json (of --sizes, else all), "
                        "which may come from separate runs")
    parser.add_argument("--child", choices=["stages", "floor", "disk"], help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "stages":
        data = child_stages(*args.paths)
    elif args.child == "floor":
        data = child_floor(args.paths[0], args.paths[1:-1], args.paths[-1])
    elif args.child == "disk":
        data = child_disk(args.paths[0], int(str(args.paths[1])))
    if args.child:
        args.result.write_text(json.dumps(data, sort_keys=True, indent=1))
        return 0

    if args.render_only:
        if args.sizes:
            paths = [args.out / f"{int(x)}.json" for x in args.sizes.split(",") if x.strip()]
        else:
            paths = [p for p in args.out.glob("*.json") if p.stem.isdigit()]
        results = sorted((json.loads(p.read_text()) for p in paths), key=lambda r: r["subjects"])
        if not results:
            raise SystemExit(f"no N.json in {args.out}")
        cmd = "python -m benchmarks.run --render-only --sizes " + ",".join(
            str(r["subjects"]) for r in results)
        args.md.write_text(render(results, cmd) + "\n")
        print(f"wrote {args.md}")
        return 0
    sizes = sorted({int(x) for x in (args.sizes or "1000,10000").split(",") if x.strip()})
    cmd = "python -m benchmarks.run --sizes " + ",".join(map(str, sizes))
    if any(n >= args.cli_only_from for n in sizes):
        cmd += f" --cli-only-from {args.cli_only_from}"
    work_root = (args.work or Path(tempfile.mkdtemp(prefix="cdisc-bench-"))).resolve()
    info = machine()
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    results = []
    try:
        for n in sizes:
            work = work_root / str(n)
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            res = {"command": cmd, "date": date, "machine": info,
                   **bench_size(n, work, cli_only=n >= args.cli_only_from)}
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{n}.json").write_text(json.dumps(res, sort_keys=True, indent=2) + "\n")
            results.append(res)
            s = res["summary"]
            floor = ("" if s["floor_wall_s"] is None
                     else f"pyreadstat floor {s['floor_wall_s']:.2f} s, ")
            print(f"[{n}] CLI {s['cli_wall_s']:.1f} s, {floor}physical floor "
                  f"{s['physical_floor_s']:.2f} s, peak {s['peak_rss_mib']:.0f} MiB", flush=True)
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work_root, ignore_errors=True)
    args.md.write_text(render(results, cmd) + "\n")
    print(f"wrote {args.md} and {args.out}/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
