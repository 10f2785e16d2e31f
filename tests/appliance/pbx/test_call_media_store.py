"""Saving a call that left a voice message or survey answers: one ticket message, one voice message row, one
mail, once, even when the record is replayed; a mailbox without an e-mail address keeps the message and says
why no mail went out."""
from __future__ import annotations

import email
from email import policy

from appliance.db import Database
from appliance.services.pbx_bridge import save_record

AUDIO = b"RIFF....WAVEfmt fake audio"


def record(call_id: str, **extra) -> dict:
    return {"call_id": call_id, "direction": "inbound", "caller": "+46701234567", "dialled": "+4684490150",
            "queue_id": "acme", "agent_id": None, "outcome": "voicemail", "loss": None,
            "arrived_at": 1_700_000_000.0, "wait_s": 0.0, "talk_s": 0.0, "digits": "", "survey_score": None,
            "notes": ["voice message for boss@acme.example"], "decision": None, **extra}


def configure(with_email: bool):
    from appliance.models import Mailbox, ServiceAddress, Tenant
    tenant = Tenant.create(name="Acme", region="SE")
    mailbox = Mailbox.create(tenant=tenant, name="Hotline")
    ServiceAddress.create(tenant=tenant, mailbox=mailbox, kind="phone", value="+4684490150")
    if with_email:
        ServiceAddress.create(tenant=tenant, mailbox=mailbox, kind="email", value="hotline@acme.example")
    return tenant.id


def counts():
    from appliance.mail.models import MailOutbox
    from appliance.models import Message
    from appliance.models.acd_media import SurveyAnswer, VoiceMessage
    return (Message.select().count(), VoiceMessage.select().count(), MailOutbox.select().count(),
            SurveyAnswer.select().count())


async def test_a_replayed_voicemail_record_files_and_mails_once(first_boot, database_url) -> None:
    db = Database(database_url)
    tenant = await db.call(configure, True)
    vm = {"to": "boss@acme.example", "digest": "ab" * 32, "content_type": "audio/wav", "duration_s": 12.4,
          "size": len(AUDIO)}
    loads: list[str] = []

    def load(digest: str) -> bytes:
        loads.append(digest)
        return AUDIO

    for _ in range(2):
        await db.call(save_record, record("sim-1", voicemail=vm), tenant, load)
    assert await db.call(counts) == (1, 1, 1, 0) and loads == [vm["digest"]]

    def stored():
        from appliance.mail.models import MailOutbox
        from appliance.models.acd_media import VoiceMessage
        row = VoiceMessage.get()
        return row, MailOutbox.get_by_id(row.outbox_id)

    row, outbox = await db.call(stored)
    assert row.duration_s == 12.4 and row.ticket_id == outbox.ticket_id and outbox.kind == "voicemail"
    mail = email.message_from_bytes(bytes(outbox.raw), policy=policy.default)
    assert [a.get_content() for a in mail.iter_attachments()] == [AUDIO], "the audio is attached"
    db.close()


async def test_without_a_sending_address_the_message_stays_on_the_ticket(first_boot, database_url) -> None:
    db = Database(database_url)
    tenant = await db.call(configure, False)
    vm = {"to": "boss@acme.example", "digest": "cd" * 32, "content_type": "audio/wav", "duration_s": 5.0,
          "size": 10}
    await db.call(save_record, record("sim-2", voicemail=vm), tenant, lambda d: AUDIO)

    def stored():
        from appliance.models import Message
        from appliance.models.acd_media import VoiceMessage
        row = VoiceMessage.get()
        return row, Message.get_by_id(row.message_id)

    row, message = await db.call(stored)
    assert row.outbox_id is None and "no e-mail address" in row.mail_error
    assert message.kind == "voicemail" and "no e-mail address" in message.body
    assert (await db.call(counts))[2] == 0
    db.close()


async def test_survey_answers_are_stored_once_per_question(first_boot, database_url) -> None:
    db = Database(database_url)
    tenant = await db.call(configure, True)
    survey = {"questions": ["overall", "helpful", "again"], "scale": 5, "answers": [5, None, 3]}
    answered = record("sim-3", outcome="answered", agent_id="u7", survey=survey, survey_score=5)
    await db.call(save_record, answered, tenant, None)
    await db.call(save_record, answered, tenant, None)

    def answers():
        from appliance.models.acd_media import SurveyAnswer
        return [(a.question, a.prompt, a.answer, a.agent_id, a.tenant_id)
                for a in SurveyAnswer.select().order_by(SurveyAnswer.question)]

    assert await db.call(answers) == [(1, "overall", 5, "u7", tenant), (3, "again", 3, "u7", tenant)]
    db.close()


async def test_a_signing_mailbox_signs_its_voice_message_mails(first_boot, database_url) -> None:
    import os

    from appliance.mail import certs, credentials
    from appliance.security.secrets import SecretBox
    from tests.appliance.mail.pki import identity
    db = Database(database_url)
    tenant = await db.call(configure, True)
    box = SecretBox(os.urandom(32))
    hotline = identity("hotline@acme.example")

    def sign_everything() -> None:
        from appliance.models import Mailbox
        mailbox = Mailbox.get(Mailbox.tenant == tenant)
        mailbox.settings = '{"smime_sign": true}'
        mailbox.save()
        credentials.add_keypair(box, tenant, mailbox.id, "hotline@acme.example",
                                certs.from_pem(hotline.cert_pem, hotline.key_pem(), ""))

    await db.call(sign_everything)
    vm = {"to": "boss@acme.example", "digest": "cd" * 32, "content_type": "audio/wav", "duration_s": 3.0,
          "size": len(AUDIO)}
    await db.call(save_record, record("sim-signed", voicemail=vm), tenant, lambda digest: AUDIO, box)

    def sent():
        from appliance.mail.models import MailOutbox
        return MailOutbox.get(MailOutbox.kind == "voicemail")

    outbox = await db.call(sent)
    mail = email.message_from_bytes(bytes(outbox.raw), policy=policy.default)
    assert mail.get_content_type() == "multipart/signed", mail.get_content_type()
    db.close()
