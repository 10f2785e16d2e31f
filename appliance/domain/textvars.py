"""Variables in text blocks and reply templates (E3–E5): a small safe syntax, checked when saved, rendered in a
sandbox. Pure: text and a context dict in, text out.

The syntax is jinja2's, narrowed to what a letter needs: `{{ customer.name }}`, a filter from a short list
(`{{ customer.name | default("customer") }}`) and `{% if customer.name %}…{% else %}…{% endif %}`. Anything
else (loops, calls, attribute chains into Python objects, macros) is refused when the text is saved, and the
sandbox (`jinja2.sandbox.SandboxedEnvironment`) stands behind that check at render time.
"""
from __future__ import annotations

import datetime
import functools
import re
from typing import Any, Iterator, Mapping

import jinja2
import nh3
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from appliance.domain import images
from appliance.domain.errors import ValidationError

# The variables a text may use, with what each means (shown beside the editor) and a sample value.
VARIABLES: dict[str, tuple[str, str]] = {
    "customer.name": ("the customer's name", "Zbigniew Łukasiewicz"),
    "customer.number": ("the customer number", "K-1001"),
    "customer.email": ("the customer's first e-mail address", "zbigniew@example.pl"),
    "customer.phone": ("the customer's first phone number", "+49 40 1234567"),
    "agent.name": ("the answering agent's name", "Agnes Åström"),
    "agent.email": ("the answering agent's e-mail address", "agnes@acme.example"),
    "agent.signature": ("the answering agent's personal signature (profile page)", "Agnes Åström\nSupport"),
    "agent.signature_image": ("the answering agent's signature image (profile page)", ""),
    "salutation": ("the salutation for the customer, formal or informal as the agent prefers", "Dear Zbigniew "
                   "Łukasiewicz,"),
    "ticket.number": ("the ticket number", "4711"),
    "ticket.subject": ("the ticket's subject", "Rechnung fehlt"),
    "mailbox.name": ("the mailbox's name", "Support"),
    "mailbox.address": ("the mailbox's e-mail address", "support@acme.example"),
    "today": ("today's date", "2026-11-23"),
}
# `{{ image.<name> }}`: a picture of the tenant or mailbox (E4), uploaded on the admin's images page.
IMAGE_ROOT = "image"
FILTERS = ("default", "upper", "lower", "title", "capitalize", "trim")
MAX_SOURCE = 100_000
# The formatting an HTML block or template may keep (C2); everything else is removed by nh3.
HTML_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "blockquote", "pre", "code",
             "h3", "h4", "span", "div", "table", "thead", "tbody", "tr", "th", "td", "hr"}
HTML_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
                   "img": {"src", "alt", "width", "height"}}

_ROOTS = {name.split(".")[0] for name in VARIABLES} | {IMAGE_ROOT}
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Const,
                  nodes.If, nodes.Filter, nodes.Not, nodes.And, nodes.Or, nodes.Compare, nodes.Operand)


class _Sandbox(SandboxedEnvironment):
    """The sandbox with only the listed filters and no globals (no range, dict, lipsum …)."""

    def __init__(self, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        self.filters = {name: self.filters[name] for name in FILTERS}
        self.globals = {}
        self.tests = {name: self.tests[name] for name in ("defined", "undefined", "none")}


_TEXT_ENV = _Sandbox(autoescape=False)
_HTML_ENV = _Sandbox(autoescape=True)


def _variable_of(node: nodes.Node) -> str | None:
    """The dotted name of a Name/Getattr chain, or None if the chain holds anything else."""
    parts: list[str] = []
    while isinstance(node, nodes.Getattr):
        parts.append(node.attr)
        node = node.node
    if not isinstance(node, nodes.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))


def _is_image(name: str | None) -> bool:
    root, _, leaf = (name or "").partition(".")
    return root == IMAGE_ROOT and bool(images.NAME.match(leaf))


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def problems(source: str) -> list[str]:
    """What is wrong with a text's variables and syntax (empty when it is fine)."""
    if len(source) > MAX_SOURCE:
        return [f"must be at most {MAX_SOURCE} characters"]
    try:
        tree = _TEXT_ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.message}"]
    found: list[str] = []
    unknown: list[str] = []
    skip: set[int] = set()
    for node in _walk(tree):
        if id(node) in skip:
            continue
        if not isinstance(node, _ALLOWED_NODES):
            found.append(f"{type(node).__name__.lower()} is not allowed: use variables, filters and if")
            continue
        if isinstance(node, (nodes.Name, nodes.Getattr)):
            name = _variable_of(node)
            if name not in VARIABLES and not _is_image(name):
                unknown.append(name or "…")
            for inner in _walk(node):  # the chain's parts are checked as one name
                skip.add(id(inner))
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            found.append(f"unknown filter {node.name!r}: allowed are " + ", ".join(FILTERS))
        elif isinstance(node, nodes.Name) and node.ctx != "load":
            found.append("assignments are not allowed")
    if unknown:
        found.insert(0, "unknown variable " + ", ".join("{{ %s }}" % n for n in dict.fromkeys(unknown))
                     + " (known: " + ", ".join(VARIABLES) + ", image.<name>)")
    return list(dict.fromkeys(found))


def check(fields: Mapping[str, str]) -> None:
    """Raise ValidationError naming each field whose text has unknown variables or bad syntax."""
    errors = {}
    for name, source in fields.items():
        found = problems(source or "")
        if found:
            errors[name] = "; ".join(found)
    if errors:
        raise ValidationError(errors)


@functools.lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> jinja2.Template:
    return (_HTML_ENV if html else _TEXT_ENV).from_string(source)


def sanitise_html(html: str) -> str:
    """HTML reduced to the allowed formatting and safe links (nh3, C2)."""
    # Images only from our own store (`/images/<sha256>`): no tracking pixels, no remote content (E4).
    out = nh3.clean(html, tags=HTML_TAGS | {"img"}, attributes=HTML_ATTRIBUTES,
                    url_schemes={"https", "http", "mailto"}, link_rel="noopener noreferrer",
                    attribute_filter=images.img_attribute)
    return re.sub(r"<img\b(?![^>]*\ssrc=)[^>]*>", "", out)  # a picture whose source was refused is dropped


def render(source: str, context: Mapping[str, Any], html: bool = False, fax: bool = False) -> str:
    """A checked text with the context's values; HTML output escapes the values and is sanitised.

    Images become <img> of our store in HTML, their alt text in plain text, and a placeholder line the fax
    cover draws (`fax`).

    Raises ValidationError for a text that would not pass `check` (e.g. stored before a variable was retired).
    """
    found = problems(source)
    if found:
        raise ValidationError({"text": "; ".join(found)})
    try:
        values = {k: v for k, v in context.items() if k in _ROOTS}
        out = _compiled(source, html).render(**(_fax_values(values) if fax else values))
        if fax:  # a picture already on a line of its own needs no extra line breaks around it
            out = re.sub(r"(^|\n)\n(\[\[image:[0-9a-f]{64}\]\])\n(\n|$)", r"\1\2\3", out)
    except jinja2.UndefinedError as exc:  # a context without one of the roots
        raise ValidationError({"text": f"cannot render: {exc.message}"}) from None
    except jinja2.TemplateError as exc:
        raise ValidationError({"text": f"cannot render: {exc}"}) from None
    return sanitise_html(out) if html else out


def _fax_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The context with each image replaced by its placeholder line, on a line of its own."""
    def swap(value: Any) -> Any:
        if isinstance(value, images.ImageValue):
            token = value.fax_token()
            return f"\n{token}\n" if token else ""
        if isinstance(value, dict):
            out = images.Images() if isinstance(value, images.Images) else {}
            out.update({k: swap(v) for k, v in value.items()})
            return out
        return value
    return {k: swap(v) for k, v in values.items()}


def empty_context() -> dict[str, Any]:
    """Every variable present and empty, so a text renders even where a value is unknown."""
    ctx: dict[str, Any] = {IMAGE_ROOT: images.Images()}
    for name in VARIABLES:
        root, _, leaf = name.partition(".")
        empty: Any = images.NoImage() if name == "agent.signature_image" else ""
        if leaf:
            ctx.setdefault(root, {})[leaf] = empty
        else:
            ctx[root] = empty
    return ctx


def sample_context() -> dict[str, Any]:
    """The sample ticket the admin console's preview renders against."""
    ctx = empty_context()
    for name, (_, sample) in VARIABLES.items():
        root, _, leaf = name.partition(".")
        if name == "agent.signature_image":
            continue
        if leaf:
            ctx[root][leaf] = sample
        else:
            ctx[root] = sample
    return ctx


def context(values: Mapping[str, Any], today: datetime.date) -> dict[str, Any]:
    """A render context from dotted names (`{"customer.name": …}`); missing ones are empty strings."""
    ctx = with_values(empty_context(), values)
    ctx["today"] = today.isoformat()
    return ctx


def with_values(ctx: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The context with the given dotted names set (images kept as images, the rest as text); unknown ones skipped."""
    for name, value in values.items():
        if _is_image(name) and isinstance(value, images.ImageValue):
            ctx[IMAGE_ROOT][name.partition(".")[2]] = value
            continue
        if name not in VARIABLES:
            continue
        root, _, leaf = name.partition(".")
        if not isinstance(value, images.ImageValue):
            value = "" if value is None else str(value)
        if leaf:
            ctx[root][leaf] = value
        else:
            ctx[root] = value
    return ctx


def html_to_text(html: str) -> str:
    """A plain-text version of sanitised HTML for the text/plain part: tags dropped, blocks become lines."""
    import html as html_mod
    import re
    text = re.sub(r'(?i)<img\b[^>]*\balt="([^"]*)"[^>]*>', r"\1", html)  # a picture becomes its alt text
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|li|h3|h4|tr|blockquote|pre)>", "\n", text)
    text = re.sub(r"(?i)<li[^>]*>", "- ", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html_mod.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
