"""Phone numbers shown to people who may not have them: the one place that masks them (and
names, for those who may know a post but not who holds it: ``masked_name``).

Two shapes of input: a phone field (a case's contact phone, a post holder's phone), and free
text where people write numbers however they like: ``138-7777-9999``, ``+86 138 7777 9999``,
``(0473)3123456转8001``, in full-width digits from a Chinese keyboard (``１３８…``). Every
number comes out in one shape, the first three and last four digits of its national number
(``138****9999``), or ``****`` when it has fewer than 11 digits, as 7 shown would give it away.

Mobiles are 11 digits from 1[3-9], after an optional +86 / 0086 / 86, in groups of 3-4-4 or
4-3-4 separated by a space, dash or dot. Landlines are an area code (010, 02x or 0xxx, bare or
in brackets; after +86 or 0086 without its 0) and a local number of 7–8 digits from 2–9, with
an optional extension, which is kept as written. A run of digits longer than a phone (an ID
card, a grid code) is left alone, as are the decimals of a coordinate (``106.13812345678``): a
number must touch no other digit, nor follow a point after two digits (``1.13812345678`` is
item 1 of a list).
"""

from __future__ import annotations

import re

# One character for one: a match in the folded text spans the same characters of the original.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # ０–９
        "＋": "+",
        "（": "(",
        "）": ")",
        "．": ".",
        "－": "-",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
        "\u3000": " ",
        "\u00a0": " ",
    }
)

_SEP = r"(?:\x20?[-.]\x20?|\x20)"
_PREFIX = r"(?:(?:\+|00)86[\x20-]?|\(\x20?(?:\+|00)?86\x20?\)\x20?|86)"
_MOBILE = rf"1[3-9]\d(?:{_SEP}?\d{{4}}{_SEP}?\d{{4}}|\d{_SEP}?\d{{3}}{_SEP}?\d{{4}})"
_AREA = r"0(?:10|2\d|[3-9]\d{2})"
_LOCAL = rf"[2-9]\d{{2,3}}{_SEP}?\d{{4}}"
_LANDLINE = rf"(?:\(\x20?{_AREA}\x20?\)\x20?|{_AREA}(?:\x20?-\x20?|\x20)?){_LOCAL}"
# Dialled from abroad, a landline drops its trunk 0: +86 473 3123456, (+86) 10 88886666. Only
# after an explicit +86 or 0086: a bare 86 before 8 digits is too often something else.
_INTL_PREFIX = r"(?:(?:\+|00)86[\x20-]?|\(\x20?(?:\+|00)86\x20?\)\x20?)"
_AREA_INTL = r"(?:10|2\d|[3-9]\d{2})"
_LANDLINE_INTL = rf"(?:\(\x20?{_AREA_INTL}\x20?\)\x20?|{_AREA_INTL}(?:\x20?-\x20?|\x20)?){_LOCAL}"
_EXTENSION = r"\x20?(?:-|转|分机|[Ee][Xx][Tt]\.?|[Xx])\x20?\d{1,6}"

_PHONE = re.compile(
    rf"""
    (?<!\d)(?<!\d\d\.)
    (?:
        {_PREFIX}?(?P<mobile>{_MOBILE})
      | (?:{_INTL_PREFIX}(?P<intl>{_LANDLINE_INTL})|(?P<landline>{_LANDLINE}))
        (?P<extension>{_EXTENSION})?
    )
    (?!\d)
    """,
    re.VERBOSE | re.ASCII,
)
_NOT_DIGIT = re.compile(r"\D", re.ASCII)


def _shape(digits: str) -> str:
    if len(digits) < 11:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def _masked_match(match: re.Match[str], original: str) -> str:
    # A landline dialled from abroad is shown as at home, with its trunk 0.
    number = match["mobile"] or match["landline"] or "0" + match["intl"]
    shown = _shape(_NOT_DIGIT.sub("", number))
    if match["extension"]:
        shown += original[match.start("extension") : match.end("extension")]
    return shown


def masked_text(text: str) -> str:
    """``text`` with every mobile and landline number in it masked.

    >>> masked_text("请联系138-7777-9999或（0473）3123456转8001")
    '请联系138****9999或047****3456转8001'
    >>> masked_text("电话＋８６ １３８ ７７７７ ９９９９，2026-12-07到")
    '电话138****9999，2026-12-07到'
    """
    folded = text.translate(_FOLD)
    parts: list[str] = []
    last = 0
    for match in _PHONE.finditer(folded):
        parts += (text[last : match.start()], _masked_match(match, text))
        last = match.end()
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def masked_phone(phone: str) -> str:
    """A phone field masked: any way of writing a number gives the same shape, and whatever
    is not a recognisable number shows at most its first three and last four digits.

    >>> masked_phone("13812345678"), masked_phone("+86 138-1234-5678"), masked_phone("0473312345")
    ('138****5678', '138****5678', '****')
    """
    folded = phone.translate(_FOLD).strip()
    match = _PHONE.fullmatch(folded)
    if match:
        return _masked_match(match, phone.strip())
    return _shape(_NOT_DIGIT.sub("", folded))


def masked_name(name: str) -> str:
    """A person's name for those who may know the post but not the person: the first
    character (the family name, mostly) and one ``*`` for each character after it.

    >>> masked_name("王小明"), masked_name("欧阳"), masked_name(" Li Lei ")
    ('王**', '欧*', 'L*****')
    """
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1)
