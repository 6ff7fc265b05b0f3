"""python -m cdisc.demo OUT_DIR [--subjects N] [--seed S]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .generator import DEFAULT_SEED, DEFAULT_SUBJECTS, generate_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cdisc.demo",
        description="Write deterministic synthetic raw EDC exports for the demo study "
                    "NCT04265963 (one file per CRF form).")
    parser.add_argument("out_dir", type=Path, help="directory to write the files into")
    parser.add_argument("--subjects", type=int, default=DEFAULT_SUBJECTS,
                        help=f"number of subjects (default {DEFAULT_SUBJECTS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    if args.subjects < 1:
        parser.error("--subjects must be at least 1")
    counts = generate_demo(args.out_dir, args.subjects, args.seed)
    for name, rows in counts.items():
        print(f"{name}\t{rows}")
    print(f"total\t{sum(counts.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
