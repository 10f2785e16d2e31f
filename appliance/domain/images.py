"""Image variables and personal signatures (E4): what an image in a text is, how each channel shows it, and the
checks an uploaded image passes. Pure: bytes and strings in, values out.

An image in a reply is always one of ours: `{{ image.logo }}` or `{{ agent.signature_image }}` become
`<img src="/images/<sha256>">` in HTML (the desk shows it from the document store; the mail composer turns it
into a `cid:` inline part), their alt text in plain text and SMS, and a placeholder line that the fax cover
draws as the picture.
"""
from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass

from appliance.domain.errors import ValidationError

MAX_BYTES = 512 * 1024           # a logo or a signature, not a photo album: mails stay small
MAX_SIDE = 2000                  # pixels; larger pictures are refused rather than scaled behind the user's back
MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SRC = re.compile(r"^/images/([0-9a-f]{64})$")
FAX_TOKEN = re.compile(r"\[\[image:([0-9a-f]{64})\]\]")
STYLES = ("formal", "informal")
# The salutation per language and style; {name} is the customer's name (E4 "personalised salutations").
SALUTATIONS = {
    "en": {"formal": "Dear {name},", "informal": "Hi {name},", "none": "Dear customer,"},
    "de": {"formal": "Guten Tag {name},", "informal": "Hallo {name},", "none": "Sehr geehrte Damen und Herren,"},
    "sv": {"formal": "Bästa {name},", "informal": "Hej {name}!", "none": "Hej!"},
    "pl": {"formal": "Szanowni Państwo,", "informal": "Cześć {name},", "none": "Szanowni Państwo,"},
}


@dataclass(frozen=True)
class ImageValue:
    """An image of the document store as a text variable: HTML markup in HTML, alt text in plain text."""

    digest: str
    mime: str
    alt: str = ""
    width: int = 0
    height: int = 0

    def __html__(self) -> str:
        size = f' width="{self.width}" height="{self.height}"' if self.width and self.height else ""
        return f'<img src="/images/{self.digest}" alt="{html.escape(self.alt, quote=True)}"{size}>'

    def __str__(self) -> str:
        return self.alt

    def fax_token(self) -> str:
        """The line the fax cover replaces by the picture."""
        return f"[[image:{self.digest}]]"


class NoImage(ImageValue):
    """An image variable with no picture behind it (no logo uploaded): renders as nothing and is false."""

    def __init__(self) -> None:
        super().__init__("", "")

    def __html__(self) -> str:
        return ""

    def __bool__(self) -> bool:
        return False

    def fax_token(self) -> str:
        return ""


class Images(dict):  # type: ignore[type-arg]
    """`image.<name>` of a context: an unknown name renders as nothing rather than failing the whole reply."""

    def __missing__(self, key: str) -> ImageValue:
        return NoImage()


@dataclass(frozen=True)
class CheckedImage:
    """An upload that passed: its type and size."""

    mime: str
    width: int
    height: int


def check_upload(data: bytes, field: str = "file") -> CheckedImage:
    """A PNG or JPEG within the limits, read by Pillow (not trusted by name or header); ValidationError otherwise."""
    from PIL import Image, UnidentifiedImageError
    if not data:
        raise ValidationError({field: "is empty"})
    if len(data) > MAX_BYTES:
        raise ValidationError({field: f"is larger than {MAX_BYTES // 1024} KB"})
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind, (width, height) = img.format, img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({field: "is not a readable PNG or JPEG image"}) from None
    if kind not in MIME_TYPES:
        raise ValidationError({field: f"is a {kind} image: only PNG and JPEG are allowed"})
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ValidationError({field: f"is {width}×{height} pixels: at most {MAX_SIDE} on each side"})
    return CheckedImage(MIME_TYPES[kind], width, height)


def check_name(name: str) -> str:
    """An image's variable name (`logo` for `{{ image.logo }}`); ValidationError if it cannot be one."""
    if not NAME.match(name or ""):
        raise ValidationError({"name": "lower-case letters, digits and '_', starting with a letter (1 to 40)"})
    return name


def salutation(language: str, style: str, name: str) -> str:
    """The salutation line for a customer in a language and style (formal/informal); English for unknown ones."""
    forms = SALUTATIONS.get((language or "en").split("-")[0].lower(), SALUTATIONS["en"])
    name = (name or "").strip()
    if not name:
        return forms["none"]
    return forms["informal" if style == "informal" else "formal"].format(name=name)


def sources_in(html_text: str) -> list[str]:
    """The digests of our images an (already sanitised) HTML text shows, in order, each once."""
    found = re.findall(r'<img\b[^>]*\bsrc="/images/([0-9a-f]{64})"', html_text)
    return list(dict.fromkeys(found))


def to_cid(html_text: str, cids: dict[str, str]) -> str:
    """The HTML with each of our image sources replaced by its `cid:` reference (RFC 2392) for the mail."""
    return re.sub(r'(<img\b[^>]*\bsrc=")/images/([0-9a-f]{64})"',
                  lambda m: f'{m.group(1)}cid:{cids[m.group(2)]}"' if m.group(2) in cids else m.group(0), html_text)


def drop_sources(html_text: str, digests: list[str] | set[str]) -> str:
    """The HTML without the <img> of the given pictures (ones a mail cannot carry), their alt text in their place."""
    def swap(m: re.Match[str]) -> str:
        if m.group(1) not in digests:
            return m.group(0)
        alt = re.search(r'\balt="([^"]*)"', m.group(0))
        return alt.group(1) if alt else ""
    return re.sub(r'<img\b[^>]*\bsrc="/images/([0-9a-f]{64})"[^>]*>', swap, html_text)


def img_attribute(tag: str, attr: str, value: str) -> str | None:
    """nh3's attribute filter: an <img> may only show one of our images; other attributes pass unchanged."""
    if tag != "img":
        return value
    if attr == "src":
        return value if SRC.match(value) else None
    if attr in ("width", "height"):
        return value if value.isdigit() and 0 < int(value) <= MAX_SIDE else None
    return value
