"""cdisc: raw clinical-trial exports to submission-ready CDISC datasets."""

__version__ = "0.1.0"
