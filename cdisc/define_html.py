"""define.html: the define.xml rendered for a reviewer's browser, self-contained and offline.

Rendered from the define.xml itself (parsed safely), so what a reviewer reads is what the XML
says: standards, a table of datasets, a table of variables per dataset, codelists and methods,
cross-linked by OID anchors.
"""

from __future__ import annotations

from lxml import etree, html
from lxml.html import builder as E

from cdisc.define import DEF_NS, ODM_NS, XLINK_NS, safe_parser

NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
CSS = """
body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:2px solid #4a6fa5}
table{border-collapse:collapse;margin:8px 0 16px 0;width:100%}
th{background:#4a6fa5;color:#fff;text-align:left;padding:4px 6px}
td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
tr:nth-child(even) td{background:#f3f6fb}
a{color:#1f4e8c}.ext{color:#a0522d;font-style:italic}.muted{color:#777}
"""


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    tt = el.find("odm:Description/odm:TranslatedText", NS)
    return (tt.text or "") if tt is not None else ""


def _link(oid: str, text: str) -> html.HtmlElement:
    return E.A(text, href=f"#{oid}")


def _table(headers: list[str], rows: list[list[object]]) -> html.HtmlElement:
    head = E.TR(*[E.TH(h) for h in headers])
    body = []
    for row in rows:
        body.append(E.TR(*[E.TD(c) for c in row]))
    return E.TABLE(E.THEAD(head), E.TBODY(*body))


def render_define_html(define_xml: bytes) -> bytes:
    root = etree.fromstring(define_xml, safe_parser())
    mdv = root.find(".//odm:MetaDataVersion", NS)
    study = root.find("odm:Study/odm:GlobalVariables", NS)
    items = {i.get("OID"): i for i in mdv.findall("odm:ItemDef", NS)}
    methods = {m.get("OID"): m for m in mdv.findall("odm:MethodDef", NS)}
    codelists = mdv.findall("odm:CodeList", NS)
    groups = mdv.findall("odm:ItemGroupDef", NS)

    name = study.findtext("odm:StudyName", namespaces=NS) or ""
    parts: list[html.HtmlElement] = [
        E.H1(f"{name}: Define-XML {mdv.get(f'{{{DEF_NS}}}DefineVersion')}"),
        E.P(study.findtext("odm:StudyDescription", namespaces=NS) or ""),
        E.P(f"Protocol {study.findtext('odm:ProtocolName', namespaces=NS)}; created "
            f"{root.get('CreationDateTime')}; context {root.get(f'{{{DEF_NS}}}Context')}."),
        E.H2("Standards"),
        _table(["Name", "Type", "Publishing set", "Version", "Status"],
               [[s.get("Name"), s.get("Type"), s.get("PublishingSet") or "", s.get("Version"),
                 s.get("Status")] for s in mdv.findall("def:Standards/def:Standard", NS)]),
        E.H2("Datasets"),
    ]
    rows = []
    for g in groups:
        keys = sorted((int(r.get("KeySequence")), items[r.get("ItemOID")].get("Name"))
                      for r in g.findall("odm:ItemRef", NS) if r.get("KeySequence"))
        leaf = g.find("def:leaf", NS)
        href = leaf.get(f"{{{XLINK_NS}}}href") if leaf is not None else ""
        cls = g.find("def:Class", NS)
        rows.append([_link(g.get("OID"), g.get("Name")), _text(g),
                     cls.get("Name") if cls is not None else "",
                     g.get(f"{{{DEF_NS}}}Structure"), ", ".join(k for _, k in keys),
                     E.A(href, href=href)])
    parts.append(_table(["Dataset", "Description", "Class", "Structure", "Keys", "Location"],
                        rows))
    for g in groups:
        parts.append(E.H2(f"{g.get('Name')} ({_text(g)})", id=g.get("OID")))
        vrows = []
        for ref in g.findall("odm:ItemRef", NS):
            item = items[ref.get("ItemOID")]
            cl_ref = item.find("odm:CodeListRef", NS)
            origin = item.find("def:Origin", NS)
            origin_text = ""
            if origin is not None:
                origin_text = origin.get("Type") + (f" ({origin.get('Source')})"
                                                    if origin.get("Source") else "")
            method_oid = ref.get("MethodOID")
            vrows.append([
                E.SPAN(item.get("Name"), id=item.get("OID")), _text(item),
                ref.get("KeySequence") or "", item.get("DataType"), item.get("Length") or "",
                item.get(f"{{{DEF_NS}}}DisplayFormat") or "",
                _link(cl_ref.get("CodeListOID"), cl_ref.get("CodeListOID"))
                if cl_ref is not None else "",
                origin_text,
                _link(method_oid, _text(methods[method_oid])) if method_oid else "",
            ])
        parts.append(_table(["Variable", "Label", "Key", "Type", "Length", "Format",
                             "Controlled terms", "Origin", "Method"], vrows))
    parts.append(E.H2("Codelists"))
    for cl in codelists:
        alias = cl.find("odm:Alias", NS)
        code = alias.get("Name") if alias is not None else ""
        parts.append(E.H3(f"{cl.get('Name')} ({code})", id=cl.get("OID")))
        trows = []
        for term in cl.findall("odm:EnumeratedItem", NS) + cl.findall("odm:CodeListItem", NS):
            t_alias = term.find("odm:Alias", NS)
            extended = term.get(f"{{{DEF_NS}}}ExtendedValue") == "Yes"
            trows.append([term.get("CodedValue"),
                          t_alias.get("Name") if t_alias is not None else "",
                          E.SPAN("sponsor-extended value", **{"class": "ext"}) if extended
                          else ""])
        parts.append(_table(["Value", "NCI code", "Note"], trows))
    parts.append(E.H2("Methods"))
    parts.append(_table(["Method", "Type", "Description"],
                        [[E.SPAN(m.get("Name"), id=oid), m.get("Type"), _text(m)]
                         for oid, m in methods.items()]))
    page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(f"{name} define"), E.STYLE(CSS)),
                  E.BODY(*parts))
    return b"<!DOCTYPE html>\n" + html.tostring(page, encoding="utf-8", pretty_print=True)
