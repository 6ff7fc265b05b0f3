"""define.html: the define.xml rendered for a reviewer's browser, self-contained and offline.

Rendered from the define.xml itself (parsed safely), so what a reviewer reads is what the XML
says. One function per section: study header and standards, documents, files (def:leaf),
datasets, variables per dataset, value-level metadata (where clauses as text), codelists,
methods, comments and Analysis Results Metadata (arm:, when present), under a table of contents.

Every cross-reference is an internal link `#id` where the id is the target's OID (whitespace
and '%' percent-encoded, since an HTML id holds no whitespace); an OID that is rendered twice
gets its id once, and a link whose target is not on the page is turned into plain text. The
output depends on the input only (no clock, no network, no JavaScript, no external CSS).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from lxml import etree, html
from lxml.html import builder as E

from cdisc.define import DEF_NS, ODM_NS, XLINK_NS
from cdisc.xmlsafe import parse_untrusted

ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"
NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": XLINK_NS, "arm": ARM_NS}
HREF = f"{{{XLINK_NS}}}href"
SECTIONS = {"study": "Study", "standards": "Standards", "documents": "Documents",
            "files": "Files", "datasets": "Datasets", "variables": "Variables",
            "valuelists": "Value-level metadata", "codelists": "Codelists",
            "methods": "Methods", "comments": "Comments", "arm": "Analysis results"}
SAFE_SCHEMES = ("", "http", "https", "file")
VARIABLE_HEADERS = ["Variable", "Label", "Type", "Length", "Significant digits", "Format",
                    "Mandatory", "Key", "Role", "Controlled terms", "Origin", "Method",
                    "Comment", "Value list"]
VALUE_HEADERS = ["Where", "Value", "Label", "Type", "Length", "Significant digits", "Format",
                 "Mandatory", "Controlled terms", "Origin", "Method", "Comment"]
CSS = """
body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:2px solid #4a6fa5}
h3{font-size:14px;margin-top:20px}h4{font-size:13px;margin:14px 0 4px 0}
table{border-collapse:collapse;margin:8px 0 16px 0;width:100%}
th{background:#4a6fa5;color:#fff;text-align:left;padding:4px 6px;vertical-align:top}
td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
tr:nth-child(even) td{background:#f3f6fb}
table.kv th{width:16em}
pre{background:#f6f6f6;border:1px solid #ddd;padding:6px;margin:2px 0;white-space:pre-wrap}
a{color:#1f4e8c}a.doc{color:#2e6b30}.extended{color:#a0522d;font-style:italic}
.muted{color:#777}.missing{color:#b00020}
nav ul{margin:2px 0}
"""

Cell = object  # a str, an element, or a list of str/elements


@dataclass
class _Define:
    """The define.xml's elements, indexed by OID, and the ids already used on the page."""
    root: etree._Element
    mdv: etree._Element
    groups: list[etree._Element]
    items: dict[str, etree._Element]
    codelists: dict[str, etree._Element]
    methods: dict[str, etree._Element]
    comments: dict[str, etree._Element]
    where: dict[str, etree._Element]
    value_lists: dict[str, etree._Element]
    leaves: dict[str, etree._Element]
    displays: list[etree._Element]
    standards: dict[str, etree._Element]
    vl_names: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=lambda: set(SECTIONS) | {"toc"})


def _by_oid(parent: etree._Element, path: str) -> dict[str, etree._Element]:
    return {el.get("OID"): el for el in parent.findall(path, NS)}


def _load(define_xml: bytes) -> _Define:
    root = parse_untrusted(define_xml, file="define.xml")
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    if mdv is None:
        raise ValueError("define.xml has no Study/MetaDataVersion")
    doc = _Define(
        root=root, mdv=mdv, groups=mdv.findall("odm:ItemGroupDef", NS),
        items=_by_oid(mdv, "odm:ItemDef"), codelists=_by_oid(mdv, "odm:CodeList"),
        methods=_by_oid(mdv, "odm:MethodDef"), comments=_by_oid(mdv, "def:CommentDef"),
        where=_by_oid(mdv, "def:WhereClauseDef"), value_lists=_by_oid(mdv, "def:ValueListDef"),
        leaves={leaf.get("ID"): leaf for leaf in mdv.iter(f"{{{DEF_NS}}}leaf")},
        displays=mdv.findall("arm:AnalysisResultDisplays/arm:ResultDisplay", NS),
        standards=_by_oid(mdv, "def:Standards/def:Standard"))
    for g in doc.groups:  # a value list is named after the variable that refers to it
        for ref in g.findall("odm:ItemRef", NS):
            item = doc.items.get(ref.get("ItemOID"))
            vl = item.find("def:ValueListRef", NS) if item is not None else None
            if vl is not None:
                name = f"{g.get('Name')}.{item.get('Name')}"
                doc.vl_names.setdefault(vl.get("ValueListOID"), name)
    return doc


# ---------------------------------------------------------------- small helpers

def _d(name: str) -> str:
    return f"{{{DEF_NS}}}{name}"


def _text(el: etree._Element | None, path: str = "odm:Description") -> str:
    """The first TranslatedText of el's Description (or of another child, e.g. Decode)."""
    if el is None:
        return ""
    tt = el.find(f"{path}/odm:TranslatedText", NS)
    return (tt.text or "") if tt is not None else ""


def _html_id(oid: str) -> str:
    """The HTML id of an OID: itself, with whitespace and '%' percent-encoded."""
    return "".join(quote(c, safe="") if c == "%" or c.isspace() else c for c in oid)


def _anchor(doc: _Define, oid: str | None) -> dict[str, str]:
    """{'id': ...} for the first element rendered for oid, {} after (ids stay unique)."""
    hid = _html_id(oid or "")
    if not hid or hid in doc.ids:
        return {}
    doc.ids.add(hid)
    return {"id": hid}


def _link(oid: str | None, text: str | None) -> html.HtmlElement | str:
    if not oid:
        return ""
    return E.A(text or oid, href=f"#{_html_id(oid)}")


def _ext_link(href: str, text: str) -> html.HtmlElement:
    """A link to a file next to the define (as given); no file, or a script-like scheme such as
    javascript:, gives plain text."""
    plain = "".join(c for c in href if c.isprintable() and not c.isspace())
    try:
        scheme = urlsplit(plain).scheme.lower()
    except ValueError:
        scheme = "invalid"
    if not plain or plain.startswith("#") or scheme not in SAFE_SCHEMES:
        return E.SPAN(text, title=href, **{"class": "missing"})
    return E.A(text, href=href, **{"class": "doc"})


def _flat(cell: Cell) -> list:
    if cell is None or cell == "":
        return []
    if isinstance(cell, (list, tuple)):
        return [part for c in cell for part in _flat(c)]
    return [cell]


def _joined(parts: Iterable[Cell], sep: Cell = ", ") -> list:
    out: list = []
    for part in parts:
        if out:
            out.append(sep() if callable(sep) else sep)
        out.extend(_flat(part))
    return out


def _lines(text: str) -> list:
    """Text with its line breaks kept as <br>."""
    return _joined(text.split("\n"), E.BR)


def _table(headers: list[str], rows: list[list[Cell]], **attrs: str) -> html.HtmlElement:
    head = E.TR(*[E.TH(h) for h in headers])
    body = [E.TR(*[E.TD(*_flat(c)) for c in row]) for row in rows]
    return E.TABLE(E.THEAD(head), E.TBODY(*body), **attrs)


def _kv_table(rows: list[tuple[str, Cell]]) -> html.HtmlElement:
    return E.TABLE(E.TBODY(*[E.TR(E.TH(k), E.TD(*_flat(v))) for k, v in rows]),
                   **{"class": "kv"})


def _section(sid: str, *content: Cell) -> html.HtmlElement:
    return E.DIV(E.H2(SECTIONS[sid]), *_flat(list(content)), id=sid, **{"class": "section"})


def _none(what: str) -> html.HtmlElement:
    return E.P(f"No {what} in this define.xml.", **{"class": "muted"})


def _order(ref: etree._Element) -> int:
    number = ref.get("OrderNumber") or ""
    return int(number) if number.isdigit() else 1 << 30


def _refs(parent: etree._Element) -> list[etree._Element]:
    """parent's ItemRefs in OrderNumber order (document order where there is none)."""
    return sorted(parent.findall("odm:ItemRef", NS), key=_order)


def _name(doc: _Define, item_oid: str | None) -> str:
    item = doc.items.get(item_oid)
    return item.get("Name") if item is not None else (item_oid or "")


def _comment(el: etree._Element) -> Cell:
    oid = el.get(_d("CommentOID"))
    return _link(oid, oid)


# ---------------------------------------------------------------- documents and page refs

def _leaf_parts(doc: _Define, leaf_id: str | None) -> tuple[str, str]:
    leaf = doc.leaves.get(leaf_id)
    if leaf is None:
        return "", leaf_id or ""
    return leaf.get(HREF) or "", leaf.findtext("def:title", namespaces=NS) or leaf_id or ""


def _pages(href: str, ref: etree._Element) -> list:
    """One def:PDFPageRef as 'p. 12, 13' (or 'p. 12-14'), each page a link into the file."""
    key = "nameddest" if ref.get("Type") == "NamedDestination" else "page"
    if ref.get("PageRefs"):
        pages = ref.get("PageRefs").split()
        out = ["p. ", *_joined(_ext_link(f"{href}#{key}={p}", p) for p in pages)]
    elif ref.get("FirstPage"):
        first, last = ref.get("FirstPage"), ref.get("LastPage") or ref.get("FirstPage")
        out = ["p. ", _ext_link(f"{href}#{key}={first}", f"{first}-{last}")]
    else:
        out = []
    if ref.get("Title"):
        out.append(f" ({ref.get('Title')})")
    return out


def _doc_ref(doc: _Define, ref: etree._Element) -> html.HtmlElement:
    """A def:DocumentRef: the document's title, linked, or 'title p. 12, 13' with page links."""
    href, title = _leaf_parts(doc, ref.get("leafID"))
    page_refs = ref.findall("def:PDFPageRef", NS)
    if not page_refs:
        return E.SPAN(_ext_link(href, title))
    return E.SPAN(title, " ", *_joined((_pages(href, p) for p in page_refs), "; "))


def _doc_refs(doc: _Define, parent: etree._Element) -> list:
    return _joined((_doc_ref(doc, r) for r in parent.findall("def:DocumentRef", NS)), E.BR)


# ---------------------------------------------------------------- where clauses

def _check(doc: _Define, rc: etree._Element) -> str:
    """A RangeCheck as text: NAME EQ "V", NAME IN ("A", "B")."""
    values = [f'"{v.text or ""}"' for v in rc.findall("odm:CheckValue", NS)]
    comparator = rc.get("Comparator") or ""
    rhs = ", ".join(values)
    if comparator in ("IN", "NOTIN"):
        rhs = f"({rhs})"
    return f"{_name(doc, rc.get(_d('ItemOID')))} {comparator} {rhs}"


def _where_text(doc: _Define, oid: str | None) -> str:
    wc = doc.where.get(oid)
    if wc is None:
        return oid or ""
    return " and ".join(_check(doc, rc) for rc in wc.findall("odm:RangeCheck", NS))


def _where_cell(doc: _Define, parent: etree._Element) -> list:
    """Every def:WhereClauseRef of parent as text (several: 'or'), with its comment link."""
    parts = []
    for ref in parent.findall("def:WhereClauseRef", NS):
        oid = ref.get("WhereClauseOID")
        part: list = [E.SPAN(_where_text(doc, oid), **{"class": "where"})]
        wc = doc.where.get(oid)
        if wc is not None and wc.get(_d("CommentOID")):
            part += [" (comment ", _comment(wc), ")"]
        parts.append(part)
    return _joined(parts, " or ")


# ---------------------------------------------------------------- item cells

def _codelist_cell(doc: _Define, item: etree._Element) -> Cell:
    ref = item.find("odm:CodeListRef", NS)
    if ref is None:
        return ""
    oid = ref.get("CodeListOID")
    cl = doc.codelists.get(oid)
    if cl is None:
        return _link(oid, oid)
    ext = cl.find("odm:ExternalCodeList", NS)
    if ext is None:
        return _link(oid, cl.get("Name"))
    return [_link(oid, cl.get("Name")),
            f" ({' '.join(filter(None, [ext.get('Dictionary'), ext.get('Version')]))})"]


def _origin_cell(doc: _Define, item: etree._Element) -> list:
    parts = []
    for origin in item.findall("def:Origin", NS):
        text: list = [origin.get("Type") or ""]
        if origin.get("Source"):
            text.append(f" ({origin.get('Source')})")
        if _text(origin):
            text += [": ", *_lines(_text(origin))]
        refs = _doc_refs(doc, origin)
        text += [E.BR(), *refs] if refs else []
        parts.append(E.SPAN(*text))
    return _joined(parts, E.BR)


def _method_cell(doc: _Define, ref: etree._Element) -> Cell:
    oid = ref.get("MethodOID")
    method = doc.methods.get(oid)
    return _link(oid, method.get("Name") if method is not None else oid)


def _item_cells(doc: _Define, item: etree._Element) -> list[Cell]:
    """Label, type, length, significant digits, display format of an ItemDef."""
    return [_text(item), item.get("DataType") or "", item.get("Length") or "",
            item.get("SignificantDigits") or "", item.get(_d("DisplayFormat")) or ""]


# ---------------------------------------------------------------- sections

def _toc(doc: _Define) -> html.HtmlElement:
    sub = {
        "datasets": [(g.get("OID"), g.get("Name")) for g in doc.groups],
        "valuelists": [(oid, doc.vl_names.get(oid, oid)) for oid in doc.value_lists],
        "codelists": [(oid, cl.get("Name")) for oid, cl in doc.codelists.items()],
        "arm": [(d.get("OID"), d.get("Name")) for d in doc.displays],
    }
    entries = []
    for sid, title in SECTIONS.items():
        if sid == "arm" and not doc.displays:
            continue
        links = [E.LI(_link(oid, name)) for oid, name in sub.get(sid, [])]
        entries.append(E.LI(_link(sid, title), *([E.UL(*links)] if links else [])))
    return E.NAV(E.H2("Contents"), E.UL(*entries), id="toc")


def _study(doc: _Define) -> html.HtmlElement:
    def get(tag: str) -> str:
        return doc.root.findtext(f"odm:Study/odm:GlobalVariables/odm:{tag}", namespaces=NS) or ""

    rows: list[tuple[str, Cell]] = [
        ("Study name", get("StudyName")), ("Study description", _lines(get("StudyDescription"))),
        ("Protocol", get("ProtocolName")),
        ("Metadata version", f"{doc.mdv.get('Name') or ''} ({doc.mdv.get('OID')})"),
        ("Define-XML version", doc.mdv.get(_d("DefineVersion")) or ""),
        ("Context", doc.root.get(_d("Context")) or ""),
        ("Created", doc.root.get("CreationDateTime") or ""),
    ]
    for label, attr in (("Originator", "Originator"), ("Source system", "SourceSystem"),
                        ("Source system version", "SourceSystemVersion")):
        if doc.root.get(attr):
            rows.append((label, doc.root.get(attr)))
    if doc.mdv.get("Description"):
        rows.append(("Description", doc.mdv.get("Description")))
    if doc.mdv.get(_d("CommentOID")):
        rows.append(("Comment", _comment(doc.mdv)))
    return _section("study", _kv_table(rows))


def _standards(doc: _Define) -> html.HtmlElement:
    rows = [[E.SPAN(s.get("Name") or "", **_anchor(doc, oid)), s.get("Type") or "",
             s.get("PublishingSet") or "", s.get("Version") or "", s.get("Status") or "",
             _comment(s)] for oid, s in doc.standards.items()]
    if not rows:
        return _section("standards", _none("def:Standards"))
    return _section("standards", _table(["Name", "Type", "Publishing set", "Version", "Status",
                                         "Comment"], rows))


def _documents(doc: _Define) -> html.HtmlElement:
    content: list = []
    for path, title in (("def:AnnotatedCRF", "Annotated CRF"),
                        ("def:SupplementalDoc", "Supplemental documents")):
        refs = doc.mdv.findall(f"{path}/def:DocumentRef", NS)
        if refs:
            content += [E.H3(title), E.UL(*[E.LI(_doc_ref(doc, r)) for r in refs])]
    return _section("documents", *(content or [_none("annotated CRF or supplemental document")]))


def _files(doc: _Define) -> html.HtmlElement:
    rows = [[E.SPAN(leaf_id, **_anchor(doc, leaf_id)),
             leaf.findtext("def:title", namespaces=NS) or "",
             _ext_link(leaf.get(HREF) or "", leaf.get(HREF) or "")]
            for leaf_id, leaf in doc.leaves.items()]
    if not rows:
        return _section("files", _none("def:leaf"))
    return _section("files", _table(["Leaf", "Title", "File"], rows))


def _class_cell(g: etree._Element) -> str:
    cls = g.find("def:Class", NS)
    if cls is None:
        return ""
    subs = [s.get("Name") for s in cls.findall("def:SubClass", NS)]
    return (cls.get("Name") or "") + (f" ({', '.join(subs)})" if subs else "")


def _keys(doc: _Define, g: etree._Element) -> str:
    keyed = [r for r in g.findall("odm:ItemRef", NS) if (r.get("KeySequence") or "").isdigit()]
    keyed.sort(key=lambda r: int(r.get("KeySequence")))
    return ", ".join(_name(doc, r.get("ItemOID")) for r in keyed)


def _dataset_row(doc: _Define, g: etree._Element) -> list[Cell]:
    leaf = g.find("def:leaf", NS)
    href = (leaf.get(HREF) or "") if leaf is not None else ""
    std = doc.standards.get(g.get(_d("StandardOID")))
    standard = [_link(std.get("OID"), f"{std.get('Name')} {std.get('Version')}")
                if std is not None else "",
                " (non-standard)" if g.get(_d("IsNonStandard")) == "Yes" else ""]
    return [_link(g.get("OID"), g.get("Name")), _text(g), _class_cell(g),
            g.get(_d("Structure")) or "", g.get("Purpose") or "", _keys(doc, g), standard,
            g.get("Domain") or "", g.get(_d("HasNoData")) or "", _comment(g),
            _ext_link(href, href) if href else ""]


def _datasets(doc: _Define) -> html.HtmlElement:
    if not doc.groups:
        return _section("datasets", _none("datasets"))
    return _section("datasets", _table(
        ["Dataset", "Description", "Class", "Structure", "Purpose", "Keys", "Standard",
         "Domain", "Has no data", "Comment", "Location"],
        [_dataset_row(doc, g) for g in doc.groups]))


def _variable_row(doc: _Define, ref: etree._Element) -> list[Cell]:
    item = doc.items.get(ref.get("ItemOID"))
    if item is None:
        return [E.SPAN(ref.get("ItemOID") or "", **{"class": "missing"})]
    vl = item.find("def:ValueListRef", NS)
    return [E.SPAN(item.get("Name") or "", **_anchor(doc, item.get("OID"))),
            *_item_cells(doc, item), ref.get("Mandatory") or "", ref.get("KeySequence") or "",
            ref.get("Role") or "", _codelist_cell(doc, item), _origin_cell(doc, item),
            _method_cell(doc, ref), _comment(item),
            _link(vl.get("ValueListOID"), "VLM") if vl is not None else ""]


def _variables(doc: _Define) -> html.HtmlElement:
    content = []
    for g in doc.groups:
        heading = f"{g.get('Name')} ({_text(g)})" if _text(g) else g.get("Name")
        content += [E.H2(heading, **_anchor(doc, g.get("OID"))),
                    _table(VARIABLE_HEADERS, [_variable_row(doc, r) for r in _refs(g)])]
    return E.DIV(*(content or [_none("datasets")]), id="variables", **{"class": "section"})


def _value_row(doc: _Define, ref: etree._Element) -> list[Cell]:
    item = doc.items.get(ref.get("ItemOID"))
    if item is None:
        return [_where_cell(doc, ref), E.SPAN(ref.get("ItemOID") or "", **{"class": "missing"})]
    return [_where_cell(doc, ref), E.SPAN(item.get("Name") or "", **_anchor(doc, item.get("OID"))),
            *_item_cells(doc, item), ref.get("Mandatory") or "", _codelist_cell(doc, item),
            _origin_cell(doc, item), _method_cell(doc, ref), _comment(item)]


def _value_lists(doc: _Define) -> html.HtmlElement:
    content = []
    for oid, vl in doc.value_lists.items():
        content.append(E.H3(doc.vl_names.get(oid, oid), **_anchor(doc, oid)))
        if _text(vl):
            content.append(E.P(*_lines(_text(vl))))
        content.append(_table(VALUE_HEADERS, [_value_row(doc, r) for r in _refs(vl)]))
    return _section("valuelists", *(content or [_none("value-level metadata")]))


def _terms_table(cl: etree._Element) -> html.HtmlElement:
    rows = []
    for term in cl.findall("odm:CodeListItem", NS) + cl.findall("odm:EnumeratedItem", NS):
        alias = term.find("odm:Alias[@Context='nci:ExtCodeID']", NS)
        extended = term.get(_d("ExtendedValue")) == "Yes"
        rows.append([term.get("CodedValue") or "", _text(term, "odm:Decode"),
                     alias.get("Name") if alias is not None else "",
                     term.get("OrderNumber") or "", term.get("Rank") or "",
                     E.SPAN("sponsor-extended value", **{"class": "extended"}) if extended
                     else ""])
    return _table(["Coded value", "Decode", "C-code", "Order", "Rank", "Extended"], rows)


def _external_table(ext: etree._Element) -> html.HtmlElement:
    href = ext.get("href") or ""
    return _table(["Dictionary", "Version", "Reference", "Link"],
                  [[ext.get("Dictionary") or "", ext.get("Version") or "", ext.get("ref") or "",
                    _ext_link(href, href) if href else ""]])


def _codelist(doc: _Define, oid: str, cl: etree._Element) -> list:
    alias = cl.find("odm:Alias[@Context='nci:ExtCodeID']", NS)
    facts = [f"Data type: {cl.get('DataType') or ''}"]
    if alias is not None:
        facts.append(f"; C-code: {alias.get('Name')}")
    if cl.get(_d("CommentOID")):
        facts += ["; comment: ", _comment(cl)]
    ext = cl.find("odm:ExternalCodeList", NS)
    return [E.H3(cl.get("Name") or oid, **_anchor(doc, oid)), E.P(*facts),
            *([E.P(*_lines(_text(cl)))] if _text(cl) else []),
            _external_table(ext) if ext is not None else _terms_table(cl)]


def _codelists(doc: _Define) -> html.HtmlElement:
    content = [part for oid, cl in doc.codelists.items() for part in _codelist(doc, oid, cl)]
    return _section("codelists", *(content or [_none("codelists")]))


def _expressions(el: etree._Element) -> list:
    out = []
    for fe in el.findall("odm:FormalExpression", NS):
        out += [E.DIV(f"Context: {fe.get('Context') or ''}"), E.PRE(fe.text or "")]
    return out


def _methods(doc: _Define) -> html.HtmlElement:
    rows = [[E.SPAN(m.get("Name") or oid, **_anchor(doc, oid)), m.get("Type") or "",
             _lines(_text(m)), _doc_refs(doc, m), _expressions(m)]
            for oid, m in doc.methods.items()]
    if not rows:
        return _section("methods", _none("methods"))
    return _section("methods", _table(["Method", "Type", "Description", "Documents",
                                       "Formal expression"], rows))


def _comments(doc: _Define) -> html.HtmlElement:
    rows = [[E.SPAN(oid, **_anchor(doc, oid)), _lines(_text(c)), _doc_refs(doc, c)]
            for oid, c in doc.comments.items()]
    if not rows:
        return _section("comments", _none("comments"))
    return _section("comments", _table(["Comment", "Description", "Documents"], rows))


def _analysis_datasets(doc: _Define, result: etree._Element) -> list:
    datasets = result.find("arm:AnalysisDatasets", NS)
    if datasets is None:
        return []
    groups = {g.get("OID"): g for g in doc.groups}
    rows = []
    for ds in datasets.findall("arm:AnalysisDataset", NS):
        oid = ds.get("ItemGroupOID")
        name = groups[oid].get("Name") if oid in groups else oid
        variables = [_link(v.get("ItemOID"), _name(doc, v.get("ItemOID")))
                     for v in ds.findall("arm:AnalysisVariable", NS)]
        rows.append([_link(oid, name), _where_cell(doc, ds), _joined(variables)])
    table = _table(["Dataset", "Where", "Analysis variables"], rows, **{"class": "arm"})
    comment = [E.P("Comment: ", _comment(datasets))] if datasets.get(_d("CommentOID")) else []
    return [table, *comment]


def _documentation(doc: _Define, result: etree._Element) -> list:
    documentation = result.find("arm:Documentation", NS)
    if documentation is None:
        return []
    refs = _doc_refs(doc, documentation)
    return [*_lines(_text(documentation)), *([E.BR(), *refs] if refs else [])]


def _code(doc: _Define, result: etree._Element) -> list:
    code = result.find("arm:ProgrammingCode", NS)
    if code is None:
        return []
    text = code.findtext("arm:Code", namespaces=NS)
    return [E.DIV(f"Context: {code.get('Context') or ''}"),
            *([E.PRE(text)] if text is not None else []), *_doc_refs(doc, code)]


def _analysis_result(doc: _Define, result: etree._Element) -> list:
    oid = result.get("OID")
    param = result.get("ParameterOID")
    rows: list[tuple[str, Cell]] = [
        ("Description", _lines(_text(result))),
        ("Parameter", _link(param, _name(doc, param)) if param else ""),
        ("Analysis reason", result.get("AnalysisReason") or ""),
        ("Analysis purpose", result.get("AnalysisPurpose") or ""),
        ("Analysis datasets", _analysis_datasets(doc, result)),
        ("Documentation", _documentation(doc, result)),
        ("Programming code", _code(doc, result)),
    ]
    return [E.H4(f"Analysis result {oid}", **_anchor(doc, oid)), _kv_table(rows)]


def _arm(doc: _Define) -> list:
    if not doc.displays:
        return []
    content: list = []
    for display in doc.displays:
        refs = _doc_refs(doc, display)
        content += [E.H3(display.get("Name") or "", **_anchor(doc, display.get("OID"))),
                    E.P(*_lines(_text(display))), *([E.P(*refs)] if refs else [])]
        for result in display.findall("arm:AnalysisResult", NS):
            content += _analysis_result(doc, result)
    return [_section("arm", *content)]


def _unlink_dangling(page: html.HtmlElement) -> None:
    """A link to an id that is not on the page becomes plain text (marked missing)."""
    ids = set(page.xpath("//@id"))
    for a in page.xpath("//a[starts-with(@href, '#')]"):
        if a.get("href")[1:] not in ids:
            a.tag = "span"
            a.set("title", f"{a.get('href')[1:]} is not defined in this define.xml")
            del a.attrib["href"]
            a.set("class", "missing")


def render_define_html(define_xml: bytes) -> bytes:
    """The define.xml as one self-contained HTML page (UTF-8 bytes), the same for the same
    input."""
    doc = _load(define_xml)
    name = doc.root.findtext("odm:Study/odm:GlobalVariables/odm:StudyName", namespaces=NS) or ""
    body = [E.H1(f"{name}: Define-XML {doc.mdv.get(_d('DefineVersion')) or ''}"), _toc(doc),
            _study(doc), _standards(doc), _documents(doc), _files(doc), _datasets(doc),
            _variables(doc), _value_lists(doc), _codelists(doc), _methods(doc), _comments(doc),
            *_arm(doc)]
    page = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(f"{name} define"), E.STYLE(CSS)),
                  E.BODY(*body), lang="en")
    _unlink_dangling(page)
    return b"<!DOCTYPE html>\n" + html.tostring(page, encoding="utf-8", pretty_print=True)
