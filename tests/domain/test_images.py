"""Image variables (E4): each channel's form of a picture, the upload checks, salutations, and that HTML keeps
only pictures of our own store."""
from __future__ import annotations

import datetime
import io

import pytest
from PIL import Image

from appliance.domain import images, textvars
from appliance.domain.errors import ValidationError

LOGO = images.ImageValue("a" * 64, "image/png", "ACME & Co", 120, 40)
SIGN = images.ImageValue("b" * 64, "image/jpeg", "Agnes' signature")
CTX = textvars.context({"customer.name": "Märta", "image.logo": LOGO, "agent.signature_image": SIGN,
                        "agent.signature": "Agnes\nSupport", "salutation": "Hej Märta!"}, datetime.date(2026, 11, 23))


def _png(size: tuple[int, int] = (20, 10), kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, kind)
    return out.getvalue()


def test_html_shows_our_image_and_escapes_its_alt_text() -> None:
    out = textvars.render("<p>{{ image.logo }}</p>{{ agent.signature_image }}", CTX, html=True)
    assert f'src="/images/{"a" * 64}"' in out and 'alt="ACME &amp; Co"' in out and 'width="120"' in out
    assert f'src="/images/{"b" * 64}"' in out
    assert images.sources_in(out) == ["a" * 64, "b" * 64]


def test_plain_text_and_sms_get_the_alt_text_and_a_missing_image_is_nothing() -> None:
    assert textvars.render("{{ image.logo }} / {{ agent.signature_image }}", CTX) == "ACME & Co / Agnes' signature"
    assert textvars.render("[{{ image.stamp }}]", CTX) == "[]"
    assert textvars.render("{% if image.stamp %}yes{% else %}no{% endif %}", CTX) == "no"
    assert textvars.render("[{{ agent.signature_image }}]", textvars.empty_context()) == "[]"


def test_fax_gets_a_placeholder_line_per_image() -> None:
    token = f"[[image:{'a' * 64}]]"
    assert textvars.render("Hello {{ image.logo }} bye", CTX, fax=True) == f"Hello \n{token}\n bye"
    assert textvars.render("{{ image.logo }}\nHej\n{{ image.logo }}", CTX, fax=True) == f"{token}\nHej\n{token}"
    assert textvars.render("{{ image.stamp }}Hej", CTX, fax=True) == "Hej"


def test_signature_and_salutation_are_variables() -> None:
    assert textvars.render("{{ salutation }}\n--\n{{ agent.signature }}", CTX) == "Hej Märta!\n--\nAgnes\nSupport"
    assert textvars.problems("{{ image.logo }}{{ image.Bad }}") == [
        textvars.problems("{{ image.Bad }}")[0]]
    assert "unknown variable {{ image.Bad }}" in textvars.problems("{{ image.Bad }}")[0]


@pytest.mark.parametrize("html", [
    '<img src="https://tracker.example/p.gif">', '<img src="/images/../../etc/passwd">',
    '<img src="data:image/png;base64,AAAA">', f'<img src="/images/{"a" * 64}" onerror="alert(1)">',
])
def test_sanitiser_keeps_no_foreign_image_source_or_handler(html: str) -> None:
    out = textvars.sanitise_html(html)
    assert "tracker" not in out and "passwd" not in out and "data:" not in out and "onerror" not in out
    assert out.count("<img") == out.count('src="/images/')


def test_to_cid_rewrites_only_known_images() -> None:
    html = f'<img src="/images/{"a" * 64}" alt="x"><img src="/images/{"c" * 64}">'
    out = images.to_cid(html, {"a" * 64: "img1@acme.example"})
    assert 'src="cid:img1@acme.example"' in out and f'src="/images/{"c" * 64}"' in out


def test_html_to_text_keeps_the_alt_text() -> None:
    assert textvars.html_to_text(f'<p>Hi</p><img src="/images/{"a" * 64}" alt="ACME &amp; Co">') == "Hi\nACME & Co"


def test_uploads_are_png_or_jpeg_within_limits() -> None:
    assert images.check_upload(_png()) == images.CheckedImage("image/png", 20, 10)
    assert images.check_upload(_png(kind="JPEG")).mime == "image/jpeg"
    for data, problem in [(b"", "is empty"), (b"GIF89a not really", "not a readable"),
                          (_png(kind="GIF"), "only PNG and JPEG"), (_png((2100, 5)), "at most 2000"),
                          (b"\x89PNG" + b"0" * (images.MAX_BYTES + 1), "larger than")]:
        with pytest.raises(ValidationError) as exc:
            images.check_upload(data)
        assert problem in exc.value.fields["file"]


@pytest.mark.parametrize("language, style, name, line", [
    ("de", "formal", "Märta Lindqvist", "Guten Tag Märta Lindqvist,"),
    ("de", "informal", "Märta", "Hallo Märta,"),
    ("en", "informal", "Märta", "Hi Märta,"),
    ("sv-SE", "informal", "Märta", "Hej Märta!"),
    ("zh", "formal", "王芳", "Dear 王芳,"),
    ("de", "formal", "", "Sehr geehrte Damen und Herren,"),
])
def test_salutation(language: str, style: str, name: str, line: str) -> None:
    assert images.salutation(language, style, name) == line


def test_image_names() -> None:
    assert images.check_name("logo_2") == "logo_2"
    for bad in ("Logo", "2logo", "", "a-b", "x" * 41):
        with pytest.raises(ValidationError):
            images.check_name(bad)
