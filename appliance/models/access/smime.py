"""S/MIME keys and partner certificates through a Scope (C4): listed, added and removed per tenant only.

Private keys never leave here in the clear: they are sealed before the row is committed, and the
list says only whether a mailbox has one.
"""
from __future__ import annotations

from typing import Any

from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.mail import certs, credentials
from appliance.mail.autoreply import mailbox_address
from appliance.mail.errors import SmimeError
from appliance.mail.models import SmimeCredential
from appliance.models.access.scope import Scope
from appliance.models.org import Mailbox

MAX_EMAIL = 254


def credential_dict(c: SmimeCredential, mailbox_names: dict[int, str] | None = None) -> dict[str, Any]:
    """A credential as the API and console show it: certificate facts, never the private key."""
    try:
        facts = certs.describe(certs.load_certificate(c.cert_pem.encode()))
    except SmimeError as exc:
        facts = {"subject": "", "issuer": "", "not_before": None, "not_after": None, "days_left": None,
                 "expiry": "unreadable", "sha256": c.sha256, "emails": [], "error": str(exc)}
    return {"id": c.id, "tenant_id": c.tenant_id, "mailbox_id": c.mailbox_id,
            "mailbox": (mailbox_names or {}).get(c.mailbox_id or 0, ""), "email": c.email, "trusted": c.trusted,
            "has_key": bool(c.key_sealed or c.key_pem), "kind": "mailbox key" if c.mailbox_id else "partner",
            "source": c.source, **facts}


def list_credentials(scope: Scope) -> list[dict[str, Any]]:
    """The tenant's keys first, then partner certificates, each newest first."""
    scope.require(Perm.ORG_READ)
    rows = list(scope.query(SmimeCredential).order_by(SmimeCredential.mailbox.is_null(),
                                                      SmimeCredential.id.desc()))
    names = {b.id: b.name for b in scope.query(Mailbox)}
    return [credential_dict(c, names) for c in rows]


def _email(given: Any, cert_pem: str, fallback: str = "") -> str:
    email = str(given or "").strip().lower()
    if not email:
        found = certs.emails_of(certs.load_certificate(cert_pem.encode()))
        email = found[0] if found else fallback
    if "@" not in email or len(email) > MAX_EMAIL or any(c.isspace() for c in email):
        raise ValidationError({"email": "must be an e-mail address (the certificate names none)"})
    return email


def add_keypair(scope: Scope, box: Any, mailbox_id: Any, email: Any, pair: certs.KeyPair) -> dict[str, Any]:
    """A mailbox's own key and certificate; the mailbox must be the actor's."""
    scope.require(Perm.ORG_WRITE)
    if not isinstance(mailbox_id, int) or isinstance(mailbox_id, bool):
        raise ValidationError({"mailbox_id": "pick one of your mailboxes"})
    box_row = scope.query(Mailbox).where(Mailbox.id == mailbox_id).first()
    if box_row is None:
        raise ValidationError({"mailbox_id": "pick one of your mailboxes"})
    address = _email(email, pair.cert_pem, mailbox_address(box_row.id))
    row = credentials.add_keypair(box, box_row.tenant_id, box_row.id, address, pair)
    scope.audit("smime.key.add", row, detail={"email": address, "sha256": row.sha256})
    return credential_dict(row, {box_row.id: box_row.name})


def add_partner(scope: Scope, tenant_id: Any, cert_pem: str, email: Any, trusted: bool) -> dict[str, Any]:
    """A correspondent's or CA's certificate (used to encrypt to them, or trusted as a signer)."""
    scope.require(Perm.ORG_WRITE)
    tenant = scope.tenant_for_create(tenant_id)
    address = _email(email, cert_pem)
    row = credentials.add_partner(tenant, cert_pem, address, trusted)
    scope.audit("smime.partner.add", row, detail={"email": address, "sha256": row.sha256, "trusted": trusted})
    return credential_dict(row)


def delete(scope: Scope, credential_id: int) -> None:
    """Remove a key or certificate of the actor's tenant (NotFound otherwise)."""
    scope.require(Perm.ORG_WRITE)
    row = scope.get(SmimeCredential, credential_id)
    scope.audit("smime.delete", row, detail={"email": row.email, "sha256": row.sha256, "had_key": bool(
        row.key_sealed or row.key_pem)})
    row.delete_instance()
