"""GeoReport v2's two formats, XML (its required one) and JSON, from the same values. Pure.

The JSON is the XML read by the Spark convention (wiki.open311.org/JSON_and_XML_Conversion):
a list is a plural element holding one singular element per item (``<services><service>``),
an object is an element per field in order, ``null`` an empty element, booleans ``true`` and
``false``. A client picks the format by the path's extension, ``.xml`` or ``.json``.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from xml.etree.ElementTree import Element, SubElement, tostring

import msgspec

Format = Literal["xml", "json"]
FORMATS: tuple[Format, ...] = ("xml", "json")
MEDIA_TYPES: dict[Format, str] = {"xml": "text/xml", "json": "application/json"}

# Each list's element, and the element of its items.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# Characters XML 1.0 cannot hold at all, not even escaped (control characters but tab and
# line breaks, lone surrogates, U+FFFE/U+FFFF): a description typed with one still parses.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def split(name: str) -> tuple[str, Format] | None:
    """A path segment's resource and format, or None without a known extension.

    >>> split("42.xml"), split("0101.json"), split("42"), split("42.html")
    (('42', 'xml'), ('0101', 'json'), None, None)
    """
    stem, dot, ext = name.rpartition(".")
    return (stem, ext) if dot and ext in FORMATS else None


def format_of(path: str) -> Format:
    """The format a path asks for: JSON for ``….json``, else XML, the standard's default."""
    return "json" if path.endswith(".json") else "xml"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(SubElement(element, ITEMS[element.tag]), item)
    elif value is not None:
        element.text = _text(value)


def xml(root: str, value: Any) -> bytes:
    """``value`` (Structs, dicts, lists, scalars) as the document ``<root>``, UTF-8 declared.

    >>> print(xml("services", [{"service_code": "0101", "metadata": True, "group": None}]).decode())
    <?xml version="1.0" encoding="utf-8"?>
    <services><service><service_code>0101</service_code><metadata>true</metadata><group \
/></service></services>
    """
    element = Element(root)
    _fill(element, msgspec.to_builtins(value))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(
        element, encoding="utf-8", xml_declaration=False
    )


def errors(status: int, description: str) -> list[dict[str, Any]]:
    """The standard's error list: the HTTP status as the code, and what went wrong."""
    return [{"code": status, "description": description}]
