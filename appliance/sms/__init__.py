"""The SMS channel over GSM modems: intake of received messages into tickets, the outbox of replies and
notifications with delivery status, and the modem runners the `sms` service supervises (C10)."""
