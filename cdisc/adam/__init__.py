"""ADaM: ADSL, ADRS and ADTTE from any SDTM package, driven by an endpoint config (YAML)."""
