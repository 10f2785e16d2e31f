"""Text blocks and reply templates through the scoped accessor (E3–E5): who sees which (personal, team,
tenant), variables checked when saved, rendered for a ticket or for the sample ticket of the preview."""
from __future__ import annotations

import datetime
import re
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import peewee

from appliance.domain import textvars
from appliance.domain.errors import Forbidden, NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import Customer, CustomerIdentifier, Mailbox, ServiceAddress, Team, Tenant, Ticket, User, UserSkill
from appliance.models.access.images import preview_values, variable_values as image_values
from appliance.models.access.resource import Resource
from appliance.models.access.scope import Scope
from appliance.models.access.tickets import customer_of
from appliance.models.auth import utcnow
from appliance.models.content import CHANNELS, VISIBILITIES, ReplyTemplate, TextBlock

SHORTCUT = re.compile(r"^[\w.-]{1,40}$")
LIST_LIMIT = 500   # text blocks and templates offered in one reply editor


def _check_shortcut(value: str) -> str | None:
    return None if SHORTCUT.match(value) else "letters, digits, '.', '-' and '_' only (1 to 40), no spaces"


def _check_channels(value: list[str]) -> str | None:
    bad = [c for c in value if c not in CHANNELS]
    return f"unknown channel {', '.join(bad)}: use {', '.join(CHANNELS)}" if bad else None


_COMMON = (Field("tenant_id", "id"), Field("visibility", choices=VISIBILITIES),
           Field("team_id", "id", nullable=True, help="the team that sees a team-visible entry"),
           Field("language", max_length=16, help="ISO 639-1 code; empty for every language"),
           Field("channels", "list", max_length=16, check=_check_channels, help="empty for every channel"),
           Field("body_text", max_length=100_000, help="plain text with {{ variables }}"),
           Field("body_html", max_length=100_000, help="HTML with {{ variables }}; sanitised"),
           Field("active", "bool"))
_BLOCK = (Field("shortcut", required=True, max_length=40, check=_check_shortcut,
                help="typed as #shortcut in the reply editor"),
          Field("title", required=True, max_length=200), Field("category", max_length=100),
          Field("skill_id", "id", nullable=True)) + _COMMON
_TEMPLATE = (Field("name", required=True, max_length=200), Field("mailbox_id", "id", nullable=True),
             Field("salutation", max_length=2000), Field("signature", max_length=5000),
             Field("is_default", "bool", help="opened with every reply of its mailbox and language")) + _COMMON


def visible(scope: Scope, model: type[peewee.Model]) -> peewee.Expression:
    """Tenant-wide entries, the actor's personal ones, and their teams' ones (all teams for org admins)."""
    clause = model.visibility == "tenant"
    if scope.actor.user_id is not None:
        clause |= (model.visibility == "personal") & (model.owner == scope.actor.user_id)
    if scope.can(Perm.ORG_WRITE):
        clause |= model.visibility == "team"
    elif scope.actor.team_ids:
        clause |= (model.visibility == "team") & model.team.in_(sorted(scope.actor.team_ids))
    return clause


class _ContentResource(Resource):
    """What text blocks and templates share: visibility, variable checks, delete."""

    read_perm, write_perm = Perm.TICKETS_READ, Perm.TICKETS_WRITE
    unique = ()
    text_fields: tuple[str, ...] = ("body_text", "body_html")
    filters = ("visibility", "language", "active")

    def base_query(self, scope: Scope) -> peewee.ModelSelect:
        return scope.query(self.model).where(visible(scope, self.model))

    def _visible_one(self, scope: Scope, obj_id: int) -> Any:
        obj = scope.get(self.model, obj_id, for_update=True)
        if not self.base_query(scope).where(self.model.id == obj.id).exists():
            raise NotFound(f"no {self.name[:-1]} {obj_id}")
        return obj

    def to_json(self, scope: Scope, obj: Any) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        out["channels"] = [c for c in obj.channels.split(",") if c]
        return out

    def _may_write(self, scope: Scope, visibility: str, team_id: int | None, owner_id: int | None) -> None:
        if visibility == "personal":
            if owner_id not in (None, scope.actor.user_id):
                raise NotFound("not one of your entries")
            return
        if scope.can(Perm.ORG_WRITE):
            return
        if visibility == "team" and team_id in scope.actor.team_ids and scope.can(Perm.TICKETS_ASSIGN):
            return  # a team lead keeps the team's own blocks (F3)
        raise Forbidden(f"your role may not change {visibility}-wide entries")

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        default_vis = "tenant" if scope.can(Perm.ORG_WRITE) else "personal"
        visibility = data.get("visibility") or (obj.visibility if obj is not None else default_vis)
        team_id = data["team_id"] if "team_id" in data else (obj.team_id if obj is not None else None)
        if obj is not None:
            self._may_write(scope, obj.visibility, obj.team_id, obj.owner_id)
        if visibility == "team" and team_id is None:
            raise ValidationError({"team_id": "is required for a team-visible entry"})
        if visibility == "personal" and scope.actor.tenant_id != tenant_id:
            raise ValidationError({"visibility": "personal entries belong to a user of this tenant"})
        self._may_write(scope, visibility, team_id, obj.owner_id if obj is not None else None)
        textvars.check({k: data[k] for k in self.text_fields if k in data})
        out = super().values(scope, {k: v for k, v in data.items() if k != "channels"}, obj, tenant_id)
        if "channels" in data:
            out["channels"] = ",".join(dict.fromkeys(data["channels"]))
        if "language" in data:
            out["language"] = data["language"].lower()
        if "body_html" in data:
            out["body_html"] = textvars.sanitise_html(data["body_html"])
        out["visibility"] = visibility
        out["team"] = team_id if visibility == "team" else None
        out.pop("team_id", None)
        if visibility == "personal":
            out["owner"] = obj.owner_id if obj is not None and obj.owner_id else scope.actor.user_id
        else:
            out["owner"] = None
        if obj is None:
            out["created_by"] = scope.actor.user_id if scope.actor.tenant_id == tenant_id else None
        out["updated_at"] = utcnow()
        return out

    def get(self, scope: Scope, obj_id: int) -> dict[str, Any]:
        scope.require(self.read_perm)
        obj = scope.get(self.model, obj_id)
        if not self.base_query(scope).where(self.model.id == obj.id).exists():
            raise NotFound(f"no {self.name[:-1]} {obj_id}")
        return self.to_json(scope, obj)

    def update(self, scope: Scope, obj_id: int, raw: Any, from_form: bool = False) -> dict[str, Any]:
        scope.require(self.write_perm)
        self._visible_one(scope, obj_id)
        return super().update(scope, obj_id, raw, from_form)

    def delete(self, scope: Scope, obj_id: int) -> None:
        """Remove an entry the actor may change."""
        scope.require(self.write_perm)
        obj = self._visible_one(scope, obj_id)
        self._may_write(scope, obj.visibility, obj.team_id, obj.owner_id)
        self.model.delete().where(self.model.id == obj.id).execute()
        scope.audit("delete", obj)


class TextBlockResource(_ContentResource):
    """Text blocks (E3): snippets by shortcut, language, skill, channel and folder."""

    name, model = "text-blocks", TextBlock
    create_schema = Schema("text_block", _BLOCK)
    update_schema = Schema("text_block_update", tuple(f for f in _BLOCK if f.name != "tenant_id"))
    search = ("title", "shortcut", "category", "body_text")
    filters = _ContentResource.filters + ("category",)

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        out = super().values(scope, data, obj, tenant_id)
        text = out.get("body_text", obj.body_text if obj is not None else "")
        html = out.get("body_html", obj.body_html if obj is not None else "")
        if not (text or "").strip() and not (html or "").strip():
            raise ValidationError({"body_text": "a text block needs a text or an HTML body"})
        shortcut = out.get("shortcut", obj.shortcut if obj is not None else "")
        clash = TextBlock.select().where((TextBlock.tenant == tenant_id) & (TextBlock.shortcut == shortcut)
                                         & (TextBlock.visibility == out["visibility"]))
        if out["visibility"] == "team":
            clash = clash.where(TextBlock.team == out["team"])
        elif out["visibility"] == "personal":
            clash = clash.where(TextBlock.owner == out["owner"])
        if obj is not None:
            clash = clash.where(TextBlock.id != obj.id)
        if clash.exists():
            raise ValidationError({"shortcut": f"#{shortcut} is already taken at this visibility"})
        return out


class ReplyTemplateResource(_ContentResource):
    """Reply templates (E5): salutation, body and signature for a mailbox and below, per language."""

    name, model = "reply-templates", ReplyTemplate
    create_schema = Schema("reply_template", _TEMPLATE)
    update_schema = Schema("reply_template_update", tuple(f for f in _TEMPLATE if f.name != "tenant_id"))
    search = ("name", "body_text")
    filters = _ContentResource.filters + ("mailbox_id",)
    text_fields = ("salutation", "body_text", "body_html", "signature")

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        out = super().values(scope, data, obj, tenant_id)
        if out.get("is_default") and out["visibility"] != "tenant":
            raise ValidationError({"is_default": "only a tenant-wide template can be a mailbox's default"})
        return out

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        if obj.is_default:  # one default per mailbox and language
            ReplyTemplate.update(is_default=False).where(
                (ReplyTemplate.tenant == obj.tenant_id) & (ReplyTemplate.id != obj.id)
                & (ReplyTemplate.mailbox == obj.mailbox_id if obj.mailbox_id else ReplyTemplate.mailbox.is_null())
                & (ReplyTemplate.language == obj.language)).execute()


# ------------------------------------------------------------------------------------------- rendering
def _tenant_today(tenant_id: int) -> datetime.date:
    try:
        zone = ZoneInfo(Tenant.get_by_id(tenant_id).timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.datetime.now(zone).date()


def mailbox_chain(mailbox_id: int | None) -> list[Mailbox]:
    """A mailbox and its parents, nearest first (F5)."""
    chain, seen = [], set()
    current = Mailbox.get_or_none(Mailbox.id == mailbox_id) if mailbox_id else None
    while current is not None and current.id not in seen:
        seen.add(current.id)
        chain.append(current)
        current = Mailbox.get_or_none(Mailbox.id == current.parent_id) if current.parent_id else None
    return chain


def _first_identifier(customer_id: int, kind: str) -> str:
    row = (CustomerIdentifier.select(CustomerIdentifier.value)
           .where((CustomerIdentifier.customer == customer_id) & (CustomerIdentifier.kind == kind))
           .order_by(CustomerIdentifier.id).first())
    return row.value if row else ""


def ticket_context(scope: Scope, ticket: Ticket) -> dict[str, Any]:
    """The variables' values for a reply on `ticket` by the acting user."""
    user = User.get_or_none(User.id == scope.actor.user_id) if scope.actor.user_id else None
    return textvars.context(_values_for(ticket, customer_of(scope, ticket), user), _tenant_today(ticket.tenant_id))


def _values_for(ticket: Ticket, customer: Customer | None, user: User | None) -> dict[str, Any]:
    """The variables' values by dotted name: the ticket, its customer, the answering user, the mailbox."""
    values: dict[str, Any] = {"ticket.number": ticket.id, "ticket.subject": ticket.subject}
    if customer is not None:
        values.update({"customer.name": customer.name, "customer.number": customer.number or "",
                       "customer.email": _first_identifier(customer.id, "email"),
                       "customer.phone": _first_identifier(customer.id, "phone")})
    if user is not None:
        values.update({"agent.name": user.display_name or user.username, "agent.email": user.email})
    chain = mailbox_chain(ticket.mailbox_id)
    values.update(image_values(ticket, customer, user, chain))
    if chain:
        values["mailbox.name"] = chain[0].name
        for box in chain:  # a child mailbox without its own address answers from its parent's
            row = (ServiceAddress.select(ServiceAddress.value)
                   .where((ServiceAddress.mailbox == box.id) & (ServiceAddress.kind == "email"))
                   .order_by(ServiceAddress.id).first())
            if row is not None:
                values["mailbox.address"] = row.value
                break
    return values


def _context_for(scope: Scope, ticket_id: int | None) -> dict[str, Any]:
    if ticket_id is None:  # the sample ticket, with the actor's own pictures and signature (E4)
        return textvars.with_values(textvars.sample_context(), preview_values(scope))
    scope.require(Perm.TICKETS_READ)
    return ticket_context(scope, scope.get(Ticket, ticket_id))


def _rendered_bodies(text: str, html: str, ctx: Mapping[str, Any]) -> dict[str, str]:
    out_html = textvars.render(html, ctx, html=True) if html.strip() else ""
    out_text = textvars.render(text, ctx) if text.strip() else textvars.html_to_text(out_html)
    return {"text": out_text, "html": out_html}


def _ticket_param(raw: Any) -> int | None:
    data = Schema("render", (Field("ticket_id", "id", nullable=True),)).validate(raw if raw is not None else {})
    return data.get("ticket_id")


def render_block(scope: Scope, block_id: int, raw: Any) -> dict[str, Any]:
    """A text block rendered for `{"ticket_id"}` (or the sample ticket without one)."""
    scope.require(Perm.TICKETS_READ)
    block = TextBlockResource()._visible_one(scope, block_id)
    ctx = _context_for(scope, _ticket_param(raw))
    return {"id": block.id, "shortcut": block.shortcut, "title": block.title,
            **_rendered_bodies(block.body_text, block.body_html, ctx)}


def render_template(scope: Scope, template_id: int, raw: Any) -> dict[str, Any]:
    """A reply template rendered for `{"ticket_id"}` (or the sample ticket without one)."""
    scope.require(Perm.TICKETS_READ)
    tpl = ReplyTemplateResource()._visible_one(scope, template_id)
    ctx = _context_for(scope, _ticket_param(raw))
    return _template_json(tpl, ctx)


def _template_json(tpl: ReplyTemplate, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": tpl.id, "name": tpl.name, "salutation": textvars.render(tpl.salutation, ctx),
            "signature": textvars.render(tpl.signature, ctx), "signature_html": _signature_html(tpl.signature, ctx),
            **_rendered_bodies(tpl.body_text, tpl.body_html, ctx)}


def _signature_html(source: str, ctx: Mapping[str, Any]) -> str:
    """The signature for an HTML mail: its lines kept, its pictures shown (E4: `{{ agent.signature_image }}`)."""
    if not source.strip():
        return ""
    # Line breaks of the template and of the values alike (agent.signature has several lines): after sanitising,
    # so only <br> is added.
    return textvars.render(source.replace("\r\n", "\n"), ctx, html=True).strip("\n").replace("\n", "<br>\n")


def render_auto_reply(tenant_id: int, template_id: Any, ticket_id: int) -> dict[str, str] | None:
    """A tenant-wide template rendered for a new ticket without an acting agent (the mailbox's auto-reply, E3).

    None when the template is missing, of another tenant, personal or disabled, or no longer renders: the
    caller then sends its plain auto-reply text rather than nothing.
    """
    if not isinstance(template_id, int) or isinstance(template_id, bool):
        return None
    tpl = ReplyTemplate.get_or_none((ReplyTemplate.id == template_id) & (ReplyTemplate.tenant == tenant_id)
                                    & (ReplyTemplate.visibility == "tenant") & (ReplyTemplate.active == True))  # noqa: E712
    ticket = Ticket.get_or_none((Ticket.id == ticket_id) & (Ticket.tenant == tenant_id))
    if tpl is None or ticket is None:
        return None
    customer = Customer.get_or_none(Customer.id == ticket.customer_id) if ticket.customer_id else None
    try:
        return _template_json(tpl, textvars.context(_values_for(ticket, customer, None),
                                                    _tenant_today(tenant_id)))
    except ValidationError:
        return None


PREVIEW_SCHEMA = Schema("preview", (Field("ticket_id", "id", nullable=True), Field("salutation", max_length=2000),
                                    Field("body_text", max_length=100_000), Field("body_html", max_length=100_000),
                                    Field("signature", max_length=5000)))


def preview(scope: Scope, raw: Any) -> dict[str, Any]:
    """Unsaved texts rendered against a ticket or the sample ticket; ValidationError names a bad field."""
    scope.require(Perm.TICKETS_READ)
    data = PREVIEW_SCHEMA.validate(raw)
    textvars.check({k: v for k, v in data.items() if k != "ticket_id"})
    ctx = _context_for(scope, data.get("ticket_id"))
    return {"salutation": textvars.render(data.get("salutation", ""), ctx),
            "signature": textvars.render(data.get("signature", ""), ctx),
            **_rendered_bodies(data.get("body_text", ""), data.get("body_html", ""), ctx)}


# ------------------------------------------------------------------------------------- the reply editor
_PRECEDENCE = {"personal": 0, "team": 1, "tenant": 2}


def reply_options(scope: Scope, ticket_id: int) -> dict[str, Any]:
    """What the desk's reply editor offers on a ticket: blocks, templates, #shortcuts and the default template.

    A shortcut names the nearest block: personal over team over tenant, the ticket's language over any.
    """
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    customer = customer_of(scope, ticket)
    language = (ticket.language or (customer.language if customer else "") or "").lower()
    skills = {s.skill_id for s in UserSkill.select(UserSkill.skill).where(UserSkill.user == scope.actor.user_id)}
    # E3: blocks by language and skill: a block tied to a skill is offered to those who hold it.
    blocks = [b for b in TextBlockResource().base_query(scope).where(TextBlock.active == True)  # noqa: E712
              .order_by(TextBlock.category, TextBlock.title).limit(LIST_LIMIT)
              if b.language in ("", language) and (b.skill_id is None or b.skill_id in skills)]
    blocks.sort(key=lambda b: (b.category.lower(), b.title.lower()))
    shortcuts: dict[str, int] = {}
    for b in sorted(blocks, key=lambda b: (_PRECEDENCE[b.visibility], b.language != language, b.id)):
        shortcuts.setdefault(b.shortcut, b.id)
    chain = [m.id for m in mailbox_chain(ticket.mailbox_id)]
    rank = {mid: i for i, mid in enumerate(chain)}
    here = ReplyTemplate.mailbox.is_null() | ReplyTemplate.mailbox.in_(chain or [0])
    templates = [t for t in ReplyTemplateResource().base_query(scope)
                 .where((ReplyTemplate.active == True) & here).limit(LIST_LIMIT)  # noqa: E712
                 if t.language in ("", language)]
    templates.sort(key=lambda t: (rank.get(t.mailbox_id, len(chain)), t.language != language, t.name.lower()))
    default = next((t for t in templates if t.is_default), None)
    ctx = ticket_context(scope, ticket)
    default_json = None
    if default is not None:
        try:
            default_json = _template_json(default, ctx)
        except ValidationError:
            default_json = None  # a template broken since saving is left out, not the whole editor
    return {"language": language,
            "blocks": [{"id": b.id, "shortcut": b.shortcut, "title": b.title, "category": b.category,
                        "language": b.language, "visibility": b.visibility,
                        "channels": [c for c in b.channels.split(",") if c]} for b in blocks],
            "shortcuts": shortcuts,
            "templates": [{"id": t.id, "name": t.name, "language": t.language, "mailbox_id": t.mailbox_id,
                           "is_default": t.is_default, "channels": [c for c in t.channels.split(",") if c]}
                          for t in templates],
            "default_template": default_json}


def teams_for(scope: Scope) -> list[Team]:
    """The teams the actor may make team-visible entries for."""
    q = scope.query(Team).where(Team.active == True)  # noqa: E712
    if not scope.can(Perm.ORG_WRITE):
        q = q.where(Team.id.in_(sorted(scope.actor.team_ids) or [0]))
    return list(q.order_by(Team.name))


__all__ = ["TextBlockResource", "ReplyTemplateResource", "render_block", "render_template", "preview",
           "reply_options", "ticket_context", "mailbox_chain", "teams_for"]
