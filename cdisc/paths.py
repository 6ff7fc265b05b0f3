"""Where the tool's own text resources live (specs/, mappings/, the embedded demo study).

The project is installed in place (``pip install -e .``): specs/ and mappings/ sit beside the
package, as the single source of truth, and are read from there. CDISC_HOME overrides the root.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("CDISC_HOME", PACKAGE_DIR.parent))
SPECS_DIR = ROOT / "specs"
MAPPINGS_DIR = ROOT / "mappings"
DEMO_MAPPING_DIR = MAPPINGS_DIR / "nct04265963"
DEMO_RAW_DIR = PACKAGE_DIR / "data" / "demo_raw"
VALIDATION_DIR = ROOT / "validation"
