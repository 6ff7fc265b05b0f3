"""Synthetic raw EDC exports (one file per CRF form) for the demo study NCT04265963.

``generate_demo(out_dir, n_subjects=45, seed=20200301)`` writes them; ``python -m cdisc.demo``
is the command line. The forms and their deliberate mess are documented in FORMS.md.
"""

from .generator import DEFAULT_SEED, DEFAULT_SUBJECTS, generate_demo

__all__ = ["generate_demo", "DEFAULT_SEED", "DEFAULT_SUBJECTS"]
