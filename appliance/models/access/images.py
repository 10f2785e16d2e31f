"""Image variables and personal profiles through the scoped accessor (E4): the tenant's and mailboxes' pictures,
each user's signature and salutation style, and the values a reply's text variables take from them."""
from __future__ import annotations

import json
from typing import Any

from appliance.domain import images
from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.images import CheckedImage, ImageValue
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import Customer, Mailbox, Ticket, User
from appliance.models.access.scope import Scope
from appliance.models.auth import utcnow
from appliance.models.content import ContentImage, UserProfile

LANGUAGES = ("de", "en", "sv", "pl")   # the salutation forms domain.images knows
MAX_IMAGES = 200                        # per tenant: a list page, not an asset manager
PROFILE = Schema("profile", (Field("signature", max_length=5000, help="plain text; {{ agent.signature }}"),
                             *(Field(f"salutation_{code}", choices=images.STYLES) for code in LANGUAGES)))


# --------------------------------------------------------------------------------------- tenant images
def list_images(scope: Scope) -> list[dict[str, Any]]:
    """The pictures of the actor's tenant (all tenants' for the system admin), by name."""
    scope.require(Perm.ORG_READ)
    rows = scope.query(ContentImage).order_by(ContentImage.name, ContentImage.id).limit(MAX_IMAGES)
    boxes = {m.id: m.name for m in scope.query(Mailbox)}
    return [{"id": r.id, "name": r.name, "variable": "{{ image.%s }}" % r.name, "mailbox": boxes.get(r.mailbox_id, ""),
             "digest": r.digest, "mime": r.mime, "size": r.size, "width": r.width, "height": r.height,
             "alt": r.alt, "tenant_id": r.tenant_id} for r in rows]


def add_image(scope: Scope, raw: dict[str, Any], digest: str, checked: CheckedImage, size: int) -> ContentImage:
    """A new picture (or a new version of one: same name and mailbox) for `{{ image.<name> }}`."""
    scope.require(Perm.ORG_WRITE)
    data = Schema("image", (Field("tenant_id", "id"), Field("mailbox_id", "id", nullable=True),
                            Field("name", required=True, max_length=40),
                            Field("alt", max_length=200, help="shown in plain text and SMS"))).validate(raw)
    name = images.check_name(data["name"])
    tenant_id = scope.tenant_for_create(data.get("tenant_id"))
    box = scope.ref(Mailbox, data.get("mailbox_id"), "mailbox_id", tenant_id)
    if ContentImage.select().where(ContentImage.tenant == tenant_id).count() >= MAX_IMAGES:
        raise ValidationError({"file": f"a tenant has at most {MAX_IMAGES} images"})
    same = (ContentImage.tenant == tenant_id) & (ContentImage.name == name)
    same &= (ContentImage.mailbox == box.id) if box else ContentImage.mailbox.is_null()
    ContentImage.delete().where(same).execute()   # a new version replaces the old one of the same place
    row = ContentImage.create(tenant=tenant_id, mailbox=box, name=name, digest=digest, mime=checked.mime, size=size,
                              width=checked.width, height=checked.height, alt=data.get("alt", ""),
                              created_by=scope.actor.user_id if scope.actor.tenant_id == tenant_id else None)
    scope.audit("image.upload", row, detail={"name": name, "mailbox_id": box.id if box else None, "size": size})
    return row


def delete_image(scope: Scope, image_id: int) -> None:
    """Remove a picture; texts using its name then show nothing in its place."""
    scope.require(Perm.ORG_WRITE)
    row = scope.get(ContentImage, image_id)
    scope.audit("image.delete", row, detail={"name": row.name})
    row.delete_instance()


# ------------------------------------------------------------------------------------------- profiles
def _profile(user_id: int) -> UserProfile | None:
    return UserProfile.get_or_none(UserProfile.user == user_id)


def profile_of(scope: Scope) -> dict[str, Any]:
    """The acting user's signature, signature image and salutation styles."""
    if scope.actor.user_id is None:
        raise NotFound("no user")
    row = _profile(scope.actor.user_id)
    styles = json.loads(row.salutations or "{}") if row else {}
    return {"signature": row.signature if row else "", "image_digest": row.image_digest if row else "",
            "image_alt": row.image_alt if row else "",
            "salutations": {code: styles.get(code, "formal") for code in LANGUAGES}}


def _own_profile(scope: Scope) -> UserProfile:
    if scope.actor.user_id is None:
        raise NotFound("no user")
    row = _profile(scope.actor.user_id)
    return row or UserProfile.create(user=scope.actor.user_id, tenant=scope.actor.tenant_id)


def save_profile(scope: Scope, raw: Any) -> None:
    """The acting user's signature text and salutation styles (every user may edit their own)."""
    data = PROFILE.validate(raw)
    row = _own_profile(scope)
    styles = {code: data.get(f"salutation_{code}", "formal") for code in LANGUAGES}
    UserProfile.update(signature=data.get("signature", ""), salutations=json.dumps(styles),
                       updated_at=utcnow()).where(UserProfile.id == row.id).execute()
    scope.audit("profile.update", None, tenant_id=scope.actor.tenant_id, object_type="user_profile")


def set_signature_image(scope: Scope, digest: str, checked: CheckedImage | None, alt: str = "") -> None:
    """The acting user's signature image (None removes it)."""
    if len(alt) > 200:
        raise ValidationError({"image_alt": "must be at most 200 characters"})
    row = _own_profile(scope)
    UserProfile.update(image_digest=digest if checked else "", image_mime=checked.mime if checked else "",
                       image_width=checked.width if checked else 0, image_height=checked.height if checked else 0,
                       image_alt=alt if checked else "", updated_at=utcnow()).where(UserProfile.id == row.id).execute()
    scope.audit("profile.signature_image", None, tenant_id=scope.actor.tenant_id, object_type="user_profile",
                detail={"digest": digest if checked else ""})


# --------------------------------------------------------------------------------------- in the texts
def variable_values(ticket: Ticket, customer: Customer | None, user: User | None,
                    chain: list[Mailbox]) -> dict[str, Any]:
    """`image.<name>`, `agent.signature`, `agent.signature_image` and `salutation` for a reply on `ticket`.

    A mailbox's own picture wins over its parent's, which wins over the tenant-wide one of the same name.
    """
    values: dict[str, Any] = {}
    rank = {box.id: i for i, box in enumerate(chain)}
    rows = ContentImage.select().where((ContentImage.tenant == ticket.tenant_id) & (
        ContentImage.mailbox.is_null() | ContentImage.mailbox.in_(list(rank) or [0])))
    best: dict[str, tuple[int, ContentImage]] = {}
    for row in rows:
        order = rank.get(row.mailbox_id, len(rank))
        if row.name not in best or order < best[row.name][0]:
            best[row.name] = (order, row)
    for name, (_, row) in best.items():
        values[f"image.{name}"] = ImageValue(row.digest, row.mime, row.alt, row.width, row.height)
    profile = _profile(user.id) if user is not None else None
    styles = json.loads(profile.salutations or "{}") if profile else {}
    language = (customer.language if customer is not None and customer.language else
                (user.language if user is not None else "en")) or "en"
    values["salutation"] = images.salutation(language, styles.get(language.split("-")[0], "formal"),
                                             customer.name if customer is not None else "")
    if profile is not None:
        values["agent.signature"] = profile.signature
        if profile.image_digest:
            values["agent.signature_image"] = ImageValue(profile.image_digest, profile.image_mime,
                                                         profile.image_alt, profile.image_width,
                                                         profile.image_height)
    return values


def preview_values(scope: Scope) -> dict[str, Any]:
    """For the sample ticket of the editor's preview: the actor's tenant-wide pictures and own signature."""
    values: dict[str, Any] = {}
    if scope.actor.tenant_id is not None:
        for row in ContentImage.select().where((ContentImage.tenant == scope.actor.tenant_id)
                                               & ContentImage.mailbox.is_null()):
            values[f"image.{row.name}"] = ImageValue(row.digest, row.mime, row.alt, row.width, row.height)
    profile = _profile(scope.actor.user_id) if scope.actor.user_id is not None else None
    if profile is not None:
        if profile.signature:
            values["agent.signature"] = profile.signature
        if profile.image_digest:
            values["agent.signature_image"] = ImageValue(profile.image_digest, profile.image_mime, profile.image_alt,
                                                         profile.image_width, profile.image_height)
    return values


def image_of_tenant(tenant_id: int | None, digest: str) -> tuple[str, str] | None:
    """(mime, alt) of one of the tenant's pictures or of its users' signature images; None for any other digest."""
    if tenant_id is None:
        return None
    row = ContentImage.get_or_none((ContentImage.tenant == tenant_id) & (ContentImage.digest == digest))
    if row is not None:
        return row.mime, row.alt
    prof = (UserProfile.select().join(User, on=(UserProfile.user == User.id))
            .where((User.tenant == tenant_id) & (UserProfile.image_digest == digest)).first())
    return (prof.image_mime, prof.image_alt) if prof is not None else None
