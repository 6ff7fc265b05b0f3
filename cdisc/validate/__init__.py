"""Validation of SDTM/ADaM packages: Great Expectations suites generated from specs/ and
cross-record / cross-dataset conformance rules, reported as data (JSON, JUnit, HTML)."""
