"""The fax channel: received faxes into tickets, faxes sent from tickets, over serial (or emulated) modems."""
