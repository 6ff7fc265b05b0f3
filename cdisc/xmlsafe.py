"""XML we did not write (a define.xml to validate, an EDC's ODM export): one hardened parser.

The parser loads no DTD, never goes to the network, resolves no entity (internal or external)
and keeps libxml2's limits on (no huge_tree: text nodes over 10 MB and trees deeper than 256
levels are errors). On top of that a DOCTYPE or ENTITY declaration is refused before parsing,
so no entity of any kind is even declared; every refusal and every malformed document is one
InputError naming the file and line.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree

from cdisc.errors import InputError

DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)
REFUSED = "DOCTYPE/ENTITY declarations are not allowed (entities are never expanded)"

# byte order marks, then the first bytes of "<?" without one (XML 1.0, appendix F)
_ENCODINGS = ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
              (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
              (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
              (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))


def safe_parser() -> etree.XMLParser:
    """A new hardened parser (parsers keep state: one per document)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, attribute_defaults=False, huge_tree=False)


def _text(xml: bytes) -> str | bytes:
    """The document as text where its encoding is not ASCII-compatible (UTF-16/32), so a
    declaration cannot hide between NUL bytes; otherwise the bytes themselves."""
    for mark, encoding in _ENCODINGS:
        if xml.startswith(mark):
            return xml.decode(encoding, "replace")
    return xml


def refuse_declarations(xml: bytes, file: str) -> None:
    """InputError (file and line) when the document declares a DOCTYPE or an ENTITY."""
    text = _text(xml)
    found = (DECLARATION.search(text) if isinstance(text, str)
             else re.search(DECLARATION.pattern.encode(), text, re.I))
    if found is not None:
        newline = "\n" if isinstance(text, str) else b"\n"
        line = text.count(newline, 0, found.start()) + 1  # type: ignore[arg-type]
        raise InputError(REFUSED, file=file, row=line)


def parse_untrusted(source: bytes | str | Path, file: str | None = None) -> etree._Element:
    """The root element of an untrusted document: `source` is its bytes or its path; `file`
    names it in errors (default: the path)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        xml = bytes(source)
        file = file or "XML input"
    else:
        path = Path(source)
        file = file or str(path)
        try:
            xml = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read XML ({exc.strerror or type(exc).__name__})",
                             file=file) from None
    refuse_declarations(xml, file)
    try:
        root = etree.fromstring(xml, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not well-formed XML: {' '.join(str(exc.msg).split())}", file=file,
                         row=exc.lineno) from None
    except ValueError as exc:  # lxml refuses some inputs before libxml2 sees them
        raise InputError(f"not well-formed XML: {' '.join(str(exc).split())}",
                         file=file) from None
    if root is None:
        raise InputError("not well-formed XML: no root element", file=file)
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise InputError(REFUSED, file=file, row=1)  # declared in an encoding not scanned
    return root
