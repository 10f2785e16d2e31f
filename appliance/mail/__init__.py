"""The e-mail channel: MIME parsing, threading, loop protection, IMAP/POP3/SMTP, S/MIME, outbox (issue 7)."""
