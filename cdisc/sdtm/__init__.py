"""SDTM mapping: declarative specs (mappings/) applied by one generic engine."""
