"""Untrusted XML (cdisc.xmlsafe): hostile documents are one-line InputErrors naming the file and
line, and the parser below the up-front refusal reads nothing from disk or network either."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from lxml import etree

from cdisc.errors import InputError
from cdisc.xmlsafe import REFUSED, parse_untrusted, safe_parser
from tests.conftest import REPO

CORPUS = REPO / "tests" / "bad_input"
ODM = ('<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileOID="F.1" ODMVersion="1.3.2">'
       '<ClinicalData StudyOID="S" MetaDataVersionOID="M"><SubjectData SubjectKey="001">'
       "<Comment>{text}</Comment></SubjectData></ClinicalData></ODM>")
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def document(doctype: str = "", text: str = "001") -> bytes:
    return (DECLARATION + doctype + "\n" + ODM.format(text=text)).encode("utf-8")


def refused(source, file: str | None = None) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        parse_untrusted(source, file=file)
    error = caught.value
    assert "\n" not in error.one_line() and len(error.one_line()) < 400
    return error


class Recorder(etree.Resolver):
    """Every URL the parser tries to load (none must be)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
        self.urls.append(url)
        return self.resolve_string("<!ENTITY leaked 'LEAKED'>", context)


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("SECRET-MARKER")
    return path


def hostile(secret: Path) -> dict[str, str]:
    """The DOCTYPEs an attacker would send, each with the entity reference that would use it."""
    return {
        "billion-laughs": (CORPUS / "lol_doctype.xml").read_text(),
        "xxe-etc-passwd": (CORPUS / "xxe_doctype.xml").read_text(),
        "xxe-local-file": f'<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>',
        "external-dtd-file": f'<!DOCTYPE ODM SYSTEM "{secret.as_uri()}">',
        "external-dtd-network": '<!DOCTYPE ODM SYSTEM "http://127.0.0.1:9/odm.dtd">',
        "parameter-entity": f'<!DOCTYPE ODM [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>',
        "public-id": '<!DOCTYPE ODM PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:9/x.dtd">',
        "lower-case": '<!doctype ODM [<!entity x "y">]>',
    }


REFERENCE = {"billion-laughs": "&lol9;", "xxe-etc-passwd": "&xxe;", "xxe-local-file": "&xxe;"}
CASES = list(hostile(Path("/x")))


@pytest.mark.parametrize("case", CASES)
def test_declarations_are_refused_up_front_with_file_and_line(case: str, secret: Path,
                                                              tmp_path: Path) -> None:
    xml = document(hostile(secret)[case], REFERENCE.get(case, "001"))
    error = refused(xml, file="export.xml")
    assert (error.message, error.file, error.row) == (REFUSED, "export.xml", 2)
    assert error.one_line().startswith("export.xml, row 2: DOCTYPE/ENTITY declarations")
    path = tmp_path / "define.xml"  # the same from a path: named by it
    path.write_bytes(xml)
    error = refused(path)
    assert (error.file, error.row) == (str(path), 2)


@pytest.mark.parametrize("case", CASES)
def test_the_parser_itself_reads_nothing_and_expands_nothing(case: str, secret: Path) -> None:
    """Below the refusal: the hardened parser on the same documents loads no DTD, no entity,
    nothing from disk or network (a resolver would see any attempt), and expands nothing."""
    parser = safe_parser()
    recorder = Recorder()
    parser.resolvers.add(recorder)
    xml = document(hostile(secret)[case], REFERENCE.get(case, "001"))
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        root = None  # refusing to parse is fine too
    assert recorder.urls == []
    if root is not None:
        text = etree.tostring(root, encoding="unicode")
        assert "SECRET-MARKER" not in text and "root:" not in text and "LEAKED" not in text
        assert "lollol" not in text and len(text) < 2000
    if case.startswith("xxe"):  # the reference stays a reference, never expanded
        assert root is not None and REFERENCE[case] in text


def test_declarations_hidden_in_utf16_or_utf32_are_refused() -> None:
    text = DECLARATION.replace("UTF-8", "UTF-16") + "\n" + \
        '<!DOCTYPE ODM [<!ENTITY x "y">]>\n' + ODM.format(text="&x;")
    for encoding, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                          ("utf-16-le", b""), ("utf-16-be", b""), ("utf-32-le", b""),
                          ("utf-32-be", codecs.BOM_UTF32_BE)):
        error = refused(bom + text.encode(encoding), file="export.xml")
        assert (error.message, error.row) == (REFUSED, 3), encoding


def test_a_declaration_missed_by_the_scan_is_still_refused(monkeypatch) -> None:
    """Defence in depth: were the byte scan fooled, the parsed tree's DOCTYPE is refused."""
    import cdisc.xmlsafe

    monkeypatch.setattr(cdisc.xmlsafe, "refuse_declarations", lambda xml, file: None)
    error = refused(document('<!DOCTYPE ODM [<!ENTITY x "y">]>', "&x;"), file="export.xml")
    assert (error.message, error.file) == (REFUSED, "export.xml")


@pytest.mark.parametrize("xml,line", [
    pytest.param(b"", 1, id="empty"),
    pytest.param(document()[:-20], 3, id="truncated"),
    pytest.param(document().replace(b"</ODM>", b"</ODM><ODM/>"), 3, id="two-roots"),
    pytest.param(document().replace(b'SubjectKey="001"', b"SubjectKey=001"), 3,
                 id="unquoted-attribute"),
    pytest.param(document(text="&undeclared;"), 3, id="undeclared-entity"),
    pytest.param(b"\n\n<a>\xff\xfe</a>", 3, id="not-utf8"),
])
def test_malformed_xml_is_one_line_naming_file_and_line(xml: bytes, line: int) -> None:
    error = refused(xml, file="export.xml")
    assert error.message.startswith("not well-formed XML") and error.file == "export.xml"
    assert error.row == line


def test_huge_text_and_deep_trees_are_refused() -> None:
    """huge_tree is off: libxml2's limits hold (a 10 MB text node, 256 levels)."""
    huge = document(text="x" * 11_000_000)
    error = refused(huge, file="huge.xml")
    assert error.message.startswith("not well-formed XML") and error.file == "huge.xml"
    deep = b"<a>" * 300 + b"</a>" * 300
    error = refused(deep, file="deep.xml")
    assert error.message.startswith("not well-formed XML") and error.file == "deep.xml"


def test_plain_documents_parse(tmp_path: Path) -> None:
    root = parse_untrusted(document(text="a &amp; b"), file="export.xml")
    assert root.tag.endswith("ODM")
    assert root.find(".//{*}Comment").text == "a & b"
    path = tmp_path / "export.xml"
    path.write_bytes(codecs.BOM_UTF8 + document())
    assert parse_untrusted(path).tag.endswith("ODM")
    # the scan is blunt (a "<!DOCTYPE" in a comment is refused too), but escaped text is text
    assert parse_untrusted(document(text="&lt;!DOCTYPE"), file="x.xml") is not None
    assert refused(document().replace(b"<ODM", b"<!-- <!DOCTYPE --><ODM")).row == 3


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    error = refused(tmp_path / "missing.xml")
    assert error.file == str(tmp_path / "missing.xml")
    error = refused(tmp_path)  # a folder
    assert error.file == str(tmp_path)


def test_define_and_odm_use_it() -> None:
    """One parser for untrusted XML: define.xml checks and ODM reading both go through
    cdisc.xmlsafe, and cdisc.define still offers safe_parser (rules.py imports it there)."""
    import cdisc.define
    import cdisc.io.odm
    import cdisc.xmlsafe

    assert cdisc.define.safe_parser is cdisc.xmlsafe.safe_parser
    assert cdisc.define.parse_untrusted is cdisc.xmlsafe.parse_untrusted
    assert cdisc.io.odm.parse_untrusted is cdisc.xmlsafe.parse_untrusted


def test_check_define_file_and_odm_reader_refuse(tmp_path: Path, secret: Path) -> None:
    from cdisc.define import check_define_file
    from cdisc.io.odm import read_odm_form

    define = tmp_path / "define.xml"
    define.write_bytes(document(hostile(secret)["xxe-local-file"], "&xxe;"))
    error = refused_call(check_define_file, define)
    assert (error.file, error.row, error.message) == (str(define), 2, REFUSED)
    export = tmp_path / "export.xml"
    export.write_bytes(document(hostile(secret)["billion-laughs"], "&lol9;"))
    error = refused_call(read_odm_form, export, "DM")
    assert (error.file, error.row, error.message) == ("export.xml", 2, REFUSED)
    export.write_bytes(document()[:-10])
    error = refused_call(read_odm_form, export, "DM")
    assert error.file == "export.xml" and error.message.startswith("not well-formed XML")


def refused_call(fn, *args) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        fn(*args)
    assert "\n" not in caught.value.one_line()
    return caught.value
