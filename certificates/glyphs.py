"""Which characters the certificate font lacks: reported before printing, never printed as an empty box.

A PDF viewer or printer draws a character the embedded font has no glyph for as an empty box (or nothing), and a
certificate with a box in the holder's name is worse than none. Before a batch starts, every text that will be
printed is checked against the font's character map (its ``cmap`` table); a character missing there stops the
batch with the list of names that contain it, so the organizer can fix them first.

``missing_characters`` is pure (it takes the set of code points the font has); ``font_characters`` reads that set
from a TrueType file once per process with reportlab's own TrueType reader (reportlab is already required; no
fontTools needed).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

# Never drawn as glyphs: line breaks; carriage returns and tabs become line breaks and spaces (layout.printable).
IGNORED = frozenset(ord(c) for c in "\n\r\t")
MAX_SAMPLES = 5


@dataclass(frozen=True)
class MissingCharacter:
    char: str
    texts: tuple[str, ...]  # up to MAX_SAMPLES texts (names, units…) that contain it
    count: int  # how many texts contain it

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"


def missing_characters(texts: Iterable[str], available: frozenset[int] | set[int]) -> list[MissingCharacter]:
    """The characters of ``texts`` that are not in ``available``, in order of first appearance, each with the
    texts it appears in.

    >>> [m.char for m in missing_characters(["王喆", "李𠀀", "张𠀀明"], {ord(c) for c in "王喆李张明"})]
    ['𠀀']
    >>> missing_characters(["李𠀀", "张𠀀明"], {ord(c) for c in "李张明"})[0].texts
    ('李𠀀', '张𠀀明')
    """
    found: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for text in texts:
        if not text:
            continue
        seen_here = set()
        for char in text:
            code = ord(char)
            if code in IGNORED or code in available or char in seen_here:
                continue
            seen_here.add(char)
            samples = found.setdefault(char, [])
            counts[char] = counts.get(char, 0) + 1
            if len(samples) < MAX_SAMPLES:
                samples.append(text)
    return [MissingCharacter(char, tuple(samples), counts[char]) for char, samples in found.items()]


_lock = threading.Lock()
_cache: dict[str, frozenset[int]] = {}


def font_characters(path: str) -> frozenset[int]:
    """The code points the TrueType font at ``path`` maps to a glyph (cached per path)."""
    with _lock:
        cached = _cache.get(path)
        if cached is not None:
            return cached
        from reportlab.pdfbase.ttfonts import TTFontFile

        face = TTFontFile(path, validate=0)
        characters = frozenset(code for code, glyph in face.charToGlyph.items() if glyph)
        _cache[path] = characters
        return characters
