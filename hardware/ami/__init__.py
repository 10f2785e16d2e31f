"""Asterisk Manager Interface: wire codec, typed events, asyncio client, call tracker and a fake server."""
