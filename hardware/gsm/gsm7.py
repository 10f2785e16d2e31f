"""GSM 7-bit default alphabet, its extension table and national shift tables (TS 23.038 §6.2, annex A).

Written by hand: no maintained Python library covers the national language tables and septet
packing with UDH fill bits. Pure functions only: str <-> septet codes <-> packed octets.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence

from hardware.gsm.errors import PduError

ESC = 0x1B

# TS 23.038 §6.2.1: the default alphabet, code 0x00 .. 0x7F (0x1B is the escape to the extension table).
DEFAULT_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# TS 23.038 §6.2.1.1: the default extension table (reached with ESC); FF is the page break.
DEFAULT_EXTENSION = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}

# TS 23.038 A.3.1: Turkish locking shift table.
TURKISH_LOCKING = (
    "@£$¥€éùıòÇ\nĞğ\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "İABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§çabcdefghijklmnopqrstuvwxyzäöñüà"
)

# TS 23.038 A.3.3: Portuguese locking shift table.
PORTUGUESE_LOCKING = (
    "@£$¥êéúíóç\nÔô\rÁáΔ_ªÇÀ∞^\\€Ó|\x1bÂâÊÉ !\"#º%&'()*+,-./0123456789:;<=>?"
    "ÍABCDEFGHIJKLMNOPQRSTUVWXYZÃÕÚÜ§~abcdefghijklmnopqrstuvwxyzãõ`üà"
)

# TS 23.038 A.2.1: Turkish single shift table.
TURKISH_SINGLE = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
    0x40: "|", 0x47: "Ğ", 0x49: "İ", 0x53: "Ş", 0x63: "ç", 0x65: "€", 0x67: "ğ", 0x69: "ı", 0x73: "ş",
}

# TS 23.038 A.2.2: Spanish single shift table (Spanish has no locking shift table).
SPANISH_SINGLE = {
    0x09: "ç", 0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
    0x3E: "]", 0x40: "|", 0x41: "Á", 0x49: "Í", 0x4F: "Ó", 0x55: "Ú", 0x61: "á", 0x65: "€",
    0x69: "í", 0x6F: "ó", 0x75: "ú",
}

# TS 23.038 A.2.3: Portuguese single shift table.
PORTUGUESE_SINGLE = {
    0x05: "ê", 0x09: "ç", 0x0A: "\f", 0x0B: "Ô", 0x0C: "ô", 0x0E: "Á", 0x0F: "á", 0x12: "Φ",
    0x13: "Γ", 0x14: "^", 0x15: "Ω", 0x16: "Π", 0x17: "Ψ", 0x18: "Σ", 0x19: "Θ", 0x1F: "Ê",
    0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x41: "À",
    0x49: "Í", 0x4F: "Ó", 0x55: "Ú", 0x5B: "Ã", 0x5C: "Õ", 0x61: "Â", 0x65: "€", 0x69: "í",
    0x6F: "ó", 0x75: "ú", 0x7B: "ã", 0x7C: "õ", 0x7F: "â",
}


class Language(enum.IntEnum):
    """National language identifiers of TS 23.038 §6.2.1.2.4 (values used in UDH IEI 0x24/0x25)."""

    DEFAULT = 0
    TURKISH = 1
    SPANISH = 2
    PORTUGUESE = 3


_LOCKING: dict[int, str] = {
    Language.DEFAULT: DEFAULT_TABLE, Language.TURKISH: TURKISH_LOCKING,
    Language.PORTUGUESE: PORTUGUESE_LOCKING,
}
_SINGLE: dict[int, dict[int, str]] = {
    Language.DEFAULT: DEFAULT_EXTENSION, Language.TURKISH: TURKISH_SINGLE,
    Language.SPANISH: SPANISH_SINGLE, Language.PORTUGUESE: PORTUGUESE_SINGLE,
}


def has_locking_table(language: int) -> bool:
    """True if TS 23.038 annex A defines a locking shift table we carry for `language`."""
    return language in _LOCKING


def has_single_table(language: int) -> bool:
    """True if TS 23.038 annex A defines a single shift table we carry for `language`."""
    return language in _SINGLE


def _encoder(locking: int, single: int) -> dict[str, tuple[int, ...]]:
    table: dict[str, tuple[int, ...]] = {}
    for code, char in _SINGLE[single].items():
        table.setdefault(char, (ESC, code))
    for code, char in enumerate(_LOCKING[locking]):
        if code != ESC:
            table[char] = (code,)  # the main table wins: one septet instead of two
    return table


_ENCODERS: dict[tuple[int, int], dict[str, tuple[int, ...]]] = {}
_TRANSLATE = {table: {code: char for code, char in enumerate(table)} for table in _LOCKING.values()}


def _encoder_for(locking: int, single: int) -> dict[str, tuple[int, ...]]:
    key = (locking, single)
    if key not in _ENCODERS:
        if locking not in _LOCKING or single not in _SINGLE:
            raise PduError(f"no GSM 7-bit table for language locking={locking} single={single}")
        _ENCODERS[key] = _encoder(locking, single)
    return _ENCODERS[key]


def can_encode(text: str, locking: int = Language.DEFAULT, single: int = Language.DEFAULT) -> bool:
    """True if every character of `text` exists in the chosen GSM 7-bit tables."""
    table = _encoder_for(locking, single)
    return all(ch in table for ch in text)


def char_septets(text: str, locking: int = Language.DEFAULT, single: int = Language.DEFAULT) -> list[tuple[int, ...]]:
    """Septet codes per character (1 code, or ESC + code for shifted ones); PduError if unencodable."""
    table = _encoder_for(locking, single)
    out = []
    for ch in text:
        codes = table.get(ch)
        if codes is None:
            raise PduError(f"character {ch!r} (U+{ord(ch):04X}) is not in the GSM 7-bit alphabet")
        out.append(codes)
    return out


def encode(text: str, locking: int = Language.DEFAULT, single: int = Language.DEFAULT) -> list[int]:
    """Text to a flat list of septet codes."""
    return [code for codes in char_septets(text, locking, single) for code in codes]


def decode(septets: Sequence[int], locking: int = Language.DEFAULT, single: int = Language.DEFAULT) -> str:
    """Septet codes to text, following the escape rules of TS 23.038 §6.2.1.1."""
    main = _LOCKING.get(locking, DEFAULT_TABLE)  # unknown language: §6.2.1.2.4 says fall back to default
    if ESC not in septets:  # the common case: one table lookup per septet
        return bytes(c & 0x7F for c in septets).decode("latin-1").translate(_TRANSLATE[main])
    ext = _SINGLE.get(single, DEFAULT_EXTENSION)
    out: list[str] = []
    escaped = False
    for code in septets:
        code &= 0x7F
        if escaped:
            escaped = False
            if code == ESC:
                out.append(" ")  # ESC ESC: reserved for a further table; §6.2.1.1 says show a space
            else:
                # A code missing from the extension table is shown from the main table (§6.2.1.1).
                out.append(ext.get(code, main[code]))
        elif code == ESC:
            escaped = True
        else:
            out.append(main[code])
    if escaped:
        out.append(" ")
    return "".join(out)


def pack(septets: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first into octets (TS 23.038 §6.1.2.1.1), after `fill_bits` zero bits."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for code in septets:
        acc |= (code & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack `count` septets that start `fill_bits` bits into `data`; PduError if data is short."""
    needed = (fill_bits + count * 7 + 7) // 8
    if needed > len(data):
        raise PduError(f"user data holds {len(data)} octets, {count} septets need {needed}")
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


def packed_length(count: int, fill_bits: int = 0) -> int:
    """Octets taken by `count` septets after `fill_bits` fill bits."""
    return (fill_bits + count * 7 + 7) // 8
