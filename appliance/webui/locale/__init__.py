"""UI languages (issue 6 part 4): gettext catalogues kept as `.po` files beside this module, compiled in memory
with babel when the web app starts (no `.mo` files to go stale), and the language of each request: the
user's own choice (User.language), else the browser's Accept-Language, else English.

Templates use jinja2's i18n extension (`{% trans %}`, `_()`); JavaScript gets its strings rendered into a data
attribute by the page. `python -m appliance.webui.locale` lists the messages the catalogues lack.
"""
from __future__ import annotations

import contextvars
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Iterator

import aiohttp_jinja2
from aiohttp import web
from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations

HERE = Path(__file__).parent
DOMAIN = "messages"
LANGUAGES = {"en": "English", "de": "Deutsch"}  # code -> the language's own name, as the picker shows it
DEFAULT = "en"
_current: contextvars.ContextVar[NullTranslations] = contextvars.ContextVar("ui_translations",
                                                                           default=NullTranslations())
_language: contextvars.ContextVar[str] = contextvars.ContextVar("ui_language", default=DEFAULT)
_path: contextvars.ContextVar[str] = contextvars.ContextVar("ui_path", default="/")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated where it is shown)."""
    return message


def po_path(language: str) -> Path:
    """Where a language's catalogue lives."""
    return HERE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language (English is the source language: no catalogue)."""
    path = po_path(language)
    if language == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = pofile.read_po(fh, locale=language, domain=DOMAIN)
    buf = io.BytesIO()
    mofile.write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def pick_language(chosen: str | None, accept_language: str = "") -> str:
    """The user's choice if we ship it, else the first shipped language the browser asks for, else English."""
    if chosen and chosen.split("-")[0].lower() in LANGUAGES:
        return chosen.split("-")[0].lower()
    weighted = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, i, tag.split("-")[0].lower()))
    for _, _, code in sorted(weighted):
        if code in LANGUAGES:
            return code
    return DEFAULT


def gettext(message: str) -> str:
    """Translate into the current request's language."""
    return _current.get().ugettext(message)


def by_pattern(message: str, patterns: Iterable[tuple[re.Pattern[str], str]]) -> str:
    """An English message built elsewhere (the API, the installer) in the current language: the first pattern
    matching it names the catalogue message, filled with the pattern's named groups; none matching, as it is."""
    for pattern, msgid in patterns:
        found = pattern.match(message)
        if found:
            return gettext(msgid) % found.groupdict()
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form into the current request's language."""
    return _current.get().ungettext(singular, plural, n)


def current_language() -> str:
    """The language of the request being handled."""
    return _language.get()


def current_path() -> str:
    """The path and query of the page being rendered (where the language switch returns to)."""
    return _path.get()


def use_language(language: str) -> None:
    """Switch the current task's language (the middleware does this per request; tests and mails too)."""
    _language.set(language)
    _current.set(translations(language))


def strings(messages: Iterable[str]) -> dict[str, str]:
    """Source string -> translation, for JavaScript (rendered into a data attribute: no inline script)."""
    return {m: gettext(m) for m in messages}


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pick the request's language after authentication has found the user."""
    from appliance.webui.keys import USER
    user = request.get(USER)
    use_language(pick_language(getattr(user, "language", None) if user else None,
                               request.headers.get("Accept-Language", "")))
    _path.set(request.path_qs if request.method == "GET" else "/")
    return await handler(request)


def install(app: web.Application) -> None:
    """Add the i18n extension to the app's jinja2 environment and the language middleware."""
    env = aiohttp_jinja2.get_env(app)
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(current_language=current_language, current_path=current_path, languages=LANGUAGES)
    app.middlewares.append(language_middleware)


def extract(template_dir: Path, python_files: Iterable[Path], templates: Iterable[str]) -> Iterator[str]:
    """Every message id in the given templates and Python files (jinja2's babel extractor, babel's Python one)."""
    from babel.messages.extract import extract_python
    from jinja2.ext import babel_extract
    options: dict[str, Any] = {"extensions": "jinja2.ext.i18n"}
    for name in templates:
        with (template_dir / name).open("rb") as fh:
            for _, _, message, _ in babel_extract(fh, ("_", "gettext", "ngettext", "N_"), [], options):
                yield from _texts(message)
    for path in python_files:
        with path.open("rb") as fh:
            for _, _, message, _ in extract_python(fh, {"N_": None}, [], {}):
                yield from _texts(message)


def _texts(message: Any) -> list[str]:
    # An extractor yields a string, a tuple (plural forms), or None for a call with a variable (_(what)).
    if isinstance(message, str):
        return [message]
    return [m for m in message or () if isinstance(m, str) and m]


def catalogue_ids(language: str) -> set[str]:
    """The message ids a language's catalogue translates (non-empty, not fuzzy)."""
    with po_path(language).open("rb") as fh:
        catalog = pofile.read_po(fh, locale=language, domain=DOMAIN)
    return {m.id for m in catalog if m.id and m.string and not m.fuzzy}


# What the catalogues cover: the desk, wallboard, queue admin and the login/admin shell.
TEMPLATES = ("base.html", "login.html", "password.html", "wallboard.html", "desk.html", "desk_fax_report.html",
             "admin/queues.html",
             "admin/queues_script.html", "admin/snmp.html", "mail/smime.html",
             "admin/surveys.html", "admin/prompts.html",
             "admin/content_list.html", "admin/content_form.html", "admin/diagnostics.html",
             "admin/services.html", "admin/fax.html", "sms/admin.html", "mail/accounts.html", "mail/quarantine.html",
             "calls.html", "desk_call.html", "desk_call_keys.html", "profile.html", "admin/images.html",
             "admin/org.html", "admin/list.html", "admin/form.html", "admin/audit.html", "admin/backups.html",
             "admin/update.html", "admin/ticket_outage.html")
PYTHON_SOURCES = ("routes_desk.py", "routes_acd_media.py", "routes_snmp.py", "routes_smime.py", "routes_content.py",
                  "routes_diagnose.py", "../snmp/receivers.py", "routes_live.py", "routes_org.py", "org_texts.py",
                  "routes_update.py", "routes_mail.py", "field_texts.py")


def missing(language: str) -> list[str]:
    """Messages of the covered templates and sources that the language's catalogue does not translate."""
    webui = HERE.parent
    wanted = set(extract(webui / "templates", [webui / p for p in PYTHON_SOURCES], TEMPLATES))
    return sorted(wanted - catalogue_ids(language))
