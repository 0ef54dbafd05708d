"""An address index over the city's own places, searched with Chinese word matching.

Chinese has no spaces between words, so the index is of characters and pairs of characters
(bigrams): a query is cut into segments (at spaces and punctuation, and before every
run of digits: "团结小区3号楼" is "团结小区" and "3号楼"), each segment must occur in a place's
name or address, in any order, and a segment that starts with a digit must not follow one
("3号楼" is not in "13号楼"). The rarest pair of any segment gives the candidates, narrowed by
the next rarest while many remain, and each candidate is checked by plain substring search.

Matches are ranked: a name equal to the query, then the segments in the query's order, all in
the name, the name starting with the first, more of the query's pairs in the name; then shorter
names; then areas before grids, service points and buildings.

>>> index = PlaceIndex([
...     Place("building", "B1", "团结小区3号楼", "新华街道团结社区团结小区3号楼", 1.0, 2.0),
...     Place("building", "B13", "团结小区13号楼", "新华街道团结社区团结小区13号楼", 1.0, 2.0),
...     Place("community", "150302001001", "团结社区", "海勃湾区新华街道团结社区", 1.0, 2.0),
... ])
>>> [p.code for p in index.search("团结 3号楼", 10)]
['B1']
>>> [p.code for p in index.search("团结", 10)]
['150302001001', 'B1', 'B13']
>>> index.search("   ", 10), index.search("和平", 10)
([], [])
"""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Static order of kinds: an area's name is what a caller most often gives first.
KIND_RANK = {
    "city": 0,
    "district": 1,
    "street": 2,
    "community": 3,
    "grid": 4,
    "point": 5,
    "building": 6,
}
_DOC_SEP = "\x1e"  # between places in the concatenated text
_FIELD_SEP = "\x1f"  # between a place's name and its address
_SEPS = np.array([ord(_DOC_SEP), ord(_FIELD_SEP)], dtype=np.uint32)
_DOC_BITS = 22  # up to 4 million places; the characters used (a few thousand) take the rest
# Narrow candidates by further pairs while more than this many remain; past MAX_MATCHES
# matched places the rest (later in the static order) are not ranked: the query is too broad
# to be worth it, and the caller types on.
NARROW_ABOVE = 64
MAX_MATCHES = 2000
_CHUNK = 1024
_SPLIT = re.compile(r"[\s,，、;；/|·.。:：()（）\-]+")
_SEGMENT = re.compile(r"\d+\D*|\D+")


@dataclass(frozen=True, slots=True)
class Place:
    kind: str  # an area's level, "grid", "point" or "building"
    code: str
    name: str
    address: str  # where it is, in words: the areas above it, or its street address
    lon: float  # WGS 84
    lat: float


def fold(text: str) -> str:
    """Full-width forms folded (NFKC: "１２" is "12"), lower case, no spaces.

    >>> fold("团结 ３号楼 A座")
    '团结3号楼a座'
    """
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def segments(query: str) -> list[str]:
    """The pieces of a query that must each occur in a match.

    >>> segments("团结小区3号楼 2单元"), segments("解放路191号"), segments("、 ")
    (['团结小区', '3号楼', '2单元'], ['解放路', '191号'], [])
    """
    parts = _SPLIT.split(unicodedata.normalize("NFKC", query).lower())
    return [s for part in parts for s in _SEGMENT.findall(part)]


def _find(text: str, segment: str, start: int = 0) -> int:
    """Where ``segment`` occurs in ``text`` from ``start``, not right after a digit if it
    starts with one; -1 if nowhere."""
    at = text.find(segment, start)
    if segment[0].isdigit():
        while at > 0 and text[at - 1].isdigit():
            at = text.find(segment, at + 1)
    return at


def _gram_keys(segment: str, alphabet: dict[str, int]) -> list[int] | None:
    """The keys of a segment's pairs of characters (none for one character); None if a
    character occurs in no place."""
    ids: list[int] = []
    for c in segment:
        at = alphabet.get(c)
        if at is None:
            return None
        ids.append(at)
    size = len(alphabet)
    return [a * size + b for a, b in itertools.pairwise(ids)]


class PlaceIndex:
    """The places, their folded texts and an inverted index of their bigrams."""

    def __init__(self, places: Sequence[Place]) -> None:
        order = sorted(range(len(places)), key=lambda i: (KIND_RANK[places[i].kind], i))
        self.places = [places[i] for i in order]
        self._names = [fold(p.name) for p in self.places]
        self._texts = [
            n + _FIELD_SEP + fold(p.address) for n, p in zip(self._names, self.places, strict=True)
        ]
        self._alphabet, self._postings, self._spans = _invert(self._texts)

    def __len__(self) -> int:
        return len(self.places)

    def _posting(self, key: int) -> np.ndarray:
        span = self._spans.get(key)
        if span is None:
            return self._postings[:0]
        return self._postings[span[0] : span[1]]

    def _candidates(self, segs: list[str]) -> np.ndarray:
        keys: list[int] = []
        for s in segs:
            pairs = _gram_keys(s, self._alphabet)
            if pairs is None:
                return self._postings[:0]
            keys += pairs
        if not keys:  # single characters only: every place is a candidate
            return np.arange(len(self.places), dtype=np.int32)
        lists = sorted((self._posting(k) for k in keys), key=len)
        found = lists[0]
        for more in lists[1:]:
            if len(found) <= NARROW_ABOVE:
                break
            at = np.minimum(np.searchsorted(more, found), len(more) - 1)
            found = found[more[at] == found]
        return found

    def search(self, query: str, limit: int) -> list[Place]:
        """The best ``limit`` places for ``query``, best first."""
        segs = segments(query)
        if not segs or limit < 1:
            return []
        whole = "".join(segs)
        pairs = {s[i : i + 2] for s in segs for i in range(len(s) - 1)}
        ranked: list[tuple[tuple[int, ...], int]] = []
        candidates = self._candidates(segs)
        for start in range(0, len(candidates), _CHUNK):
            for doc in candidates[start : start + _CHUNK].tolist():
                text = self._texts[doc]
                spots = [_find(text, s) for s in segs]
                if -1 in spots:
                    continue
                name = self._names[doc]
                key = (
                    name != whole,
                    spots != sorted(spots),
                    any(_find(name, s) == -1 for s in segs),
                    not name.startswith(segs[0]),
                    -sum(p in name for p in pairs),
                    len(name),
                )
                ranked.append((key, doc))
            if len(ranked) >= MAX_MATCHES:
                break
        ranked.sort()
        return [self.places[doc] for _, doc in ranked[:limit]]


def _invert(
    texts: list[str],
) -> tuple[dict[str, int], np.ndarray, dict[int, tuple[int, int]]]:
    """The characters used, each with its number, and every bigram's sorted list of the
    places whose text holds it (one array, with each key's span in it)."""
    if not texts:
        return {}, np.zeros(0, dtype=np.int32), {}
    chars = np.frombuffer(_DOC_SEP.join(texts).encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[: len(chars)]
    # Characters numbered through a table of every code point: linear, where np.unique sorts.
    present = np.zeros(sys.maxunicode + 1, dtype=bool)
    present[chars] = True
    present[_SEPS] = False
    number = np.cumsum(present, dtype=np.int64) - 1
    size = int(present.sum())
    ids = number[chars]
    pair = present[chars[:-1]] & present[chars[1:]]
    both = np.sort(((ids[:-1] * size + ids[1:]) << _DOC_BITS | doc[:-1])[pair])
    both = both[np.r_[True, both[1:] != both[:-1]]]
    keys, postings = both >> _DOC_BITS, (both & ((1 << _DOC_BITS) - 1)).astype(np.int32)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    spans = dict(
        zip(keys[starts].tolist(), zip(starts.tolist(), ends.tolist(), strict=True), strict=True)
    )
    alphabet = {chr(c): int(number[c]) for c in np.flatnonzero(present).tolist()}
    return alphabet, postings, spans
