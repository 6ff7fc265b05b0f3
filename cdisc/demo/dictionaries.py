"""A small built-in MedDRA-like coding dictionary for the demo AE form.

The hierarchy names follow MedDRA naming conventions (LLT -> PT -> HLT -> HLGT -> SOC), but
ALL 8-DIGIT CODES HERE ARE FICTIONAL: they were invented for this synthetic demo study, are not
MedDRA codes and must never be used for real coding. They all start with "19" (real MedDRA codes
start with "10"), so they cannot be mistaken for real ones. MedDRA is licensed by the ICH MSSO.
"""

from __future__ import annotations

DICTIONARY_NAME = "MedDRA-like demo dictionary (fictional codes)"
DICTIONARY_VERSION = "26.0-demo"

# SOC name -> code
SOC: dict[str, str] = {
    "Blood and lymphatic system disorders": "19005329",
    "Cardiac disorders": "19007541",
    "Gastrointestinal disorders": "19017947",
    "General disorders and administration site conditions": "19018065",
    "Immune system disorders": "19021428",
    "Infections and infestations": "19021881",
    "Investigations": "19022891",
    "Metabolism and nutrition disorders": "19027433",
    "Nervous system disorders": "19029205",
    "Psychiatric disorders": "19037175",
    "Respiratory, thoracic and mediastinal disorders": "19038738",
    "Skin and subcutaneous tissue disorders": "19040785",
    "Vascular disorders": "19047065",
}

# HLGT name -> (code, SOC name)
HLGT: dict[str, tuple[str, str]] = {
    "Anaemias nonhaemolytic and marrow depression": (
        "19002086", "Blood and lymphatic system disorders"),
    "White blood cell disorders": ("19047954", "Blood and lymphatic system disorders"),
    "Cardiac arrhythmias": ("19007521", "Cardiac disorders"),
    "Gastrointestinal signs and symptoms": ("19018012", "Gastrointestinal disorders"),
    "Gastrointestinal motility and defaecation conditions": (
        "19017977", "Gastrointestinal disorders"),
    "Body temperature conditions": (
        "19005908", "General disorders and administration site conditions"),
    "General system disorders NEC": (
        "19018073", "General disorders and administration site conditions"),
    "Immune disorders NEC": ("19021430", "Immune system disorders"),
    "Transplant-related immune conditions": ("19021431", "Immune system disorders"),
    "Infections - pathogen unspecified": ("19021879", "Infections and infestations"),
    "Haematology investigations (incl blood groups)": ("19018851", "Investigations"),
    "Hepatobiliary investigations": ("19019807", "Investigations"),
    "Electrolyte and fluid balance conditions": ("19014412", "Metabolism and nutrition disorders"),
    "Protein and amino acid metabolism disorders NEC": (
        "19036817", "Metabolism and nutrition disorders"),
    "Purine and pyrimidine metabolism disorders": (
        "19037548", "Metabolism and nutrition disorders"),
    "Neurological disorders NEC": ("19029305", "Nervous system disorders"),
    "Headaches": ("19019231", "Nervous system disorders"),
    "Deliria (incl confusion)": ("19012239", "Psychiatric disorders"),
    "Respiratory disorders NEC": ("19038716", "Respiratory, thoracic and mediastinal disorders"),
    "Epidermal and dermal conditions": ("19014982", "Skin and subcutaneous tissue disorders"),
    "Decreased and nonspecific blood pressure disorders and shock": (
        "19011954", "Vascular disorders"),
}

# HLT name -> (code, HLGT name)
HLT: dict[str, tuple[str, str]] = {
    "Anaemias NEC": ("19002068", "Anaemias nonhaemolytic and marrow depression"),
    "Neutropenias": ("19029363", "White blood cell disorders"),
    "Histiocytoses": ("19020164", "White blood cell disorders"),
    "Rate and rhythm disorders NEC": ("19037908", "Cardiac arrhythmias"),
    "Nausea and vomiting symptoms": ("19028817", "Gastrointestinal signs and symptoms"),
    "Diarrhoea (excl infective)": (
        "19012736", "Gastrointestinal motility and defaecation conditions"),
    "Febrile disorders": ("19016286", "Body temperature conditions"),
    "Asthenic conditions": ("19003550", "General system disorders NEC"),
    "General signs and symptoms NEC": ("19018072", "General system disorders NEC"),
    "Cytokine release syndromes": ("19083004", "Immune disorders NEC"),
    "Graft versus host diseases": ("19018652", "Transplant-related immune conditions"),
    "Lower respiratory tract and lung infections": (
        "19024968", "Infections - pathogen unspecified"),
    "Sepsis, bacteraemia, viraemia and fungaemia NEC": (
        "19040049", "Infections - pathogen unspecified"),
    "White blood cell analyses": ("19047921", "Haematology investigations (incl blood groups)"),
    "Platelet analyses": ("19035529", "Haematology investigations (incl blood groups)"),
    "Liver function analyses": ("19024690", "Hepatobiliary investigations"),
    "Potassium imbalance": ("19036450", "Electrolyte and fluid balance conditions"),
    "Protein metabolism disorders NEC": (
        "19036818", "Protein and amino acid metabolism disorders NEC"),
    "Purine metabolism disorders NEC": ("19037549", "Purine and pyrimidine metabolism disorders"),
    "Encephalopathies NEC": ("19014628", "Neurological disorders NEC"),
    "Headaches NEC": ("19019233", "Headaches"),
    "Confusion and disorientation": ("19010301", "Deliria (incl confusion)"),
    "Breathing abnormalities": ("19006333", "Respiratory disorders NEC"),
    "Coughing and associated symptoms": ("19011232", "Respiratory disorders NEC"),
    "Rashes, eruptions and exanthems NEC": ("19037868", "Epidermal and dermal conditions"),
    "Vascular hypotensive disorders": (
        "19047140", "Decreased and nonspecific blood pressure disorders and shock"),
}

# PT name -> (code, HLT name)  (primary path only)
PT: dict[str, tuple[str, str]] = {
    "Anaemia": ("19002034", "Anaemias NEC"),
    "Febrile neutropenia": ("19016288", "Neutropenias"),
    "Haemophagocytic lymphohistiocytosis": ("19048620", "Histiocytoses"),
    "Sinus tachycardia": ("19040752", "Rate and rhythm disorders NEC"),
    "Nausea": ("19028813", "Nausea and vomiting symptoms"),
    "Vomiting": ("19047700", "Nausea and vomiting symptoms"),
    "Diarrhoea": ("19012735", "Diarrhoea (excl infective)"),
    "Pyrexia": ("19037660", "Febrile disorders"),
    "Fatigue": ("19016256", "Asthenic conditions"),
    "Malaise": ("19025482", "General signs and symptoms NEC"),
    "Cytokine release syndrome": ("19052015", "Cytokine release syndromes"),
    "Graft versus host disease": ("19018651", "Graft versus host diseases"),
    "Acute graft versus host disease": ("19066246", "Graft versus host diseases"),
    "Pneumonia": ("19035664", "Lower respiratory tract and lung infections"),
    "Sepsis": ("19040047", "Sepsis, bacteraemia, viraemia and fungaemia NEC"),
    "Septic shock": ("19040070", "Sepsis, bacteraemia, viraemia and fungaemia NEC"),
    "Neutrophil count decreased": ("19029366", "White blood cell analyses"),
    "White blood cell count decreased": ("19049182", "White blood cell analyses"),
    "Lymphocyte count decreased": ("19025256", "White blood cell analyses"),
    "Platelet count decreased": ("19035528", "Platelet analyses"),
    "Alanine aminotransferase increased": ("19001551", "Liver function analyses"),
    "Aspartate aminotransferase increased": ("19003481", "Liver function analyses"),
    "Hypokalaemia": ("19021015", "Potassium imbalance"),
    "Hypoalbuminaemia": ("19020942", "Protein metabolism disorders NEC"),
    "Tumour lysis syndrome": ("19045170", "Purine metabolism disorders NEC"),
    "Immune effector cell-associated neurotoxicity syndrome": ("19083064", "Encephalopathies NEC"),
    "Headache": ("19019211", "Headaches NEC"),
    "Confusional state": ("19010305", "Confusion and disorientation"),
    "Hypoxia": ("19021143", "Breathing abnormalities"),
    "Cough": ("19011224", "Coughing and associated symptoms"),
    "Rash": ("19037844", "Rashes, eruptions and exanthems NEC"),
    "Hypotension": ("19021097", "Vascular hypotensive disorders"),
}

# LLT name -> (code, PT name)
LLT: dict[str, tuple[str, str]] = {
    "Anaemia": ("19002034", "Anaemia"),
    "Anemia": ("19002272", "Anaemia"),
    "Febrile neutropenia": ("19016288", "Febrile neutropenia"),
    "Neutropenic fever": ("19029386", "Febrile neutropenia"),
    "Haemophagocytic lymphohistiocytosis": ("19048620", "Haemophagocytic lymphohistiocytosis"),
    "HLH": ("19071583", "Haemophagocytic lymphohistiocytosis"),
    "Sinus tachycardia": ("19040752", "Sinus tachycardia"),
    "Tachycardia sinus": ("19043073", "Sinus tachycardia"),
    "Nausea": ("19028813", "Nausea"),
    "Vomiting": ("19047700", "Vomiting"),
    "Diarrhoea": ("19012735", "Diarrhoea"),
    "Diarrhea": ("19012727", "Diarrhoea"),
    "Pyrexia": ("19037660", "Pyrexia"),
    "Fever": ("19016558", "Pyrexia"),
    "Fatigue": ("19016256", "Fatigue"),
    "Tiredness": ("19043890", "Fatigue"),
    "Feeling unwell": ("19016370", "Malaise"),
    "Cytokine release syndrome": ("19052015", "Cytokine release syndrome"),
    "CRS": ("19083005", "Cytokine release syndrome"),
    "Graft versus host disease": ("19018651", "Graft versus host disease"),
    "GVHD": ("19018653", "Graft versus host disease"),
    "Acute graft versus host disease": ("19066246", "Acute graft versus host disease"),
    "Acute GVHD": ("19066247", "Acute graft versus host disease"),
    "Pneumonia": ("19035664", "Pneumonia"),
    "Lung infection": ("19061229", "Pneumonia"),
    "Sepsis": ("19040047", "Sepsis"),
    "Septic shock": ("19040070", "Septic shock"),
    "Neutropenia": ("19029354", "Neutrophil count decreased"),
    "Neutrophil count decreased": ("19029366", "Neutrophil count decreased"),
    "Neutrophils low": ("19029367", "Neutrophil count decreased"),
    "Leukopenia": ("19024384", "White blood cell count decreased"),
    "White blood cell count decreased": ("19049182", "White blood cell count decreased"),
    "Lymphopenia": ("19025327", "Lymphocyte count decreased"),
    "Lymphocyte count decreased": ("19025256", "Lymphocyte count decreased"),
    "Thrombocytopenia": ("19043554", "Platelet count decreased"),
    "Platelet count decreased": ("19035528", "Platelet count decreased"),
    "Low platelets": ("19035536", "Platelet count decreased"),
    "ALT increased": ("19001553", "Alanine aminotransferase increased"),
    "Alanine aminotransferase increased": ("19001551", "Alanine aminotransferase increased"),
    "AST increased": ("19003483", "Aspartate aminotransferase increased"),
    "Aspartate aminotransferase increased": ("19003481", "Aspartate aminotransferase increased"),
    "Hypokalaemia": ("19021015", "Hypokalaemia"),
    "Hypokalemia": ("19021018", "Hypokalaemia"),
    "Potassium low": ("19036453", "Hypokalaemia"),
    "Hypoalbuminaemia": ("19020942", "Hypoalbuminaemia"),
    "Hypoalbuminemia": ("19020943", "Hypoalbuminaemia"),
    "Tumor lysis syndrome": ("19045171", "Tumour lysis syndrome"),
    "ICANS": ("19083065", "Immune effector cell-associated neurotoxicity syndrome"),
    "Immune effector cell-associated neurotoxicity syndrome": (
        "19083064", "Immune effector cell-associated neurotoxicity syndrome"),
    "Neurotoxicity": ("19029350", "Immune effector cell-associated neurotoxicity syndrome"),
    "Headache": ("19019211", "Headache"),
    "Confusion": ("19010300", "Confusional state"),
    "Hypoxia": ("19021143", "Hypoxia"),
    "Oxygen saturation decreased": ("19033318", "Hypoxia"),
    "Cough": ("19011224", "Cough"),
    "Rash": ("19037844", "Rash"),
    "Hypotension": ("19021097", "Hypotension"),
    "Low blood pressure": ("19024825", "Hypotension"),
}

# Verbatim term as investigators type it (normalised: stripped, lower case) -> LLT name.
VERBATIM: dict[str, str] = {
    "anemia": "Anemia",
    "anaemia": "Anaemia",
    "febrile neutropenia": "Febrile neutropenia",
    "neutropenic fever": "Neutropenic fever",
    "hlh": "HLH",
    "haemophagocytic lymphohistiocytosis": "Haemophagocytic lymphohistiocytosis",
    "sinus tachycardia": "Sinus tachycardia",
    "tachycardia": "Tachycardia sinus",
    "nausea": "Nausea",
    "vomiting": "Vomiting",
    "diarrhea": "Diarrhea",
    "diarrhoea": "Diarrhoea",
    "fever": "Fever",
    "pyrexia": "Pyrexia",
    "fatigue": "Fatigue",
    "tiredness": "Tiredness",
    "cytokine release syndrome": "Cytokine release syndrome",
    "crs": "CRS",
    "graft versus host disease": "Graft versus host disease",
    "gvhd": "GVHD",
    "acute gvhd": "Acute GVHD",
    "acute graft versus host disease": "Acute graft versus host disease",
    "pneumonia": "Pneumonia",
    "lung infection": "Lung infection",
    "sepsis": "Sepsis",
    "septic shock": "Septic shock",
    "neutropenia": "Neutropenia",
    "neutrophil count decreased": "Neutrophil count decreased",
    "neutrophils low": "Neutrophils low",
    "leukopenia": "Leukopenia",
    "white blood cell count decreased": "White blood cell count decreased",
    "lymphopenia": "Lymphopenia",
    "lymphocyte count decreased": "Lymphocyte count decreased",
    "thrombocytopenia": "Thrombocytopenia",
    "platelet count decreased": "Platelet count decreased",
    "low platelets": "Low platelets",
    "alt increased": "ALT increased",
    "elevated alt": "ALT increased",
    "alanine aminotransferase increased": "Alanine aminotransferase increased",
    "ast increased": "AST increased",
    "aspartate aminotransferase increased": "Aspartate aminotransferase increased",
    "hypokalemia": "Hypokalemia",
    "hypokalaemia": "Hypokalaemia",
    "low potassium": "Potassium low",
    "hypoalbuminemia": "Hypoalbuminemia",
    "hypoalbuminaemia": "Hypoalbuminaemia",
    "tumor lysis syndrome": "Tumor lysis syndrome",
    "icans": "ICANS",
    "neurotoxicity/icans": "Neurotoxicity",
    "immune effector cell-associated neurotoxicity syndrome":
        "Immune effector cell-associated neurotoxicity syndrome",
    "headache": "Headache",
    "confusion": "Confusion",
    "hypoxia": "Hypoxia",
    "desaturation": "Oxygen saturation decreased",
    "cough": "Cough",
    "rash": "Rash",
    "hypotension": "Hypotension",
    "low blood pressure": "Low blood pressure",
}

CODED_COLUMNS = ("AELLT", "AELLTCD", "AEPT", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT",
                 "AEHLGTCD", "AESOC", "AESOCCD")


def code_term(verbatim: str) -> dict[str, str] | None:
    """Code one verbatim term; None when the term is not in the dictionary (coding pending)."""
    llt = VERBATIM.get(" ".join(verbatim.split()).lower())
    if llt is None:
        return None
    llt_code, pt = LLT[llt]
    pt_code, hlt = PT[pt]
    hlt_code, hlgt = HLT[hlt]
    hlgt_code, soc = HLGT[hlgt]
    return {
        "AELLT": llt, "AELLTCD": llt_code, "AEPT": pt, "AEPTCD": pt_code,
        "AEHLT": hlt, "AEHLTCD": hlt_code, "AEHLGT": hlgt, "AEHLGTCD": hlgt_code,
        "AESOC": soc, "AESOCCD": SOC[soc],
    }


def _check() -> None:
    """Every verbatim resolves through the whole hierarchy (run by the tests)."""
    for term in VERBATIM:
        if code_term(term) is None:
            raise AssertionError(term)
    codes = [c for c, _ in LLT.values()]
    # an LLT that is also a PT shares the PT's code, otherwise codes are unique per level
    for name, (code, pt) in LLT.items():
        if name == pt and PT[pt][0] != code:
            raise AssertionError(name)
    if len(set(codes)) != len(codes):
        raise AssertionError("duplicate LLT codes")
