"""Pure domain logic: decisions without I/O (no sockets, no database, no event loop required)."""
