"""Intake shared by every inbound channel: durable spool, idempotency keys, quarantine, the ticket sink.

DESIGN.md "Intake: nothing lost, nothing twice": spool + fsync, then acknowledge at the source, then
deliver in one transaction keyed by an idempotency key, then mark the spool entry done.
"""
