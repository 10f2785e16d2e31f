"""The serial console: a numbered menu for a field technician on an 80×24 VT100 (or a pty in development).

`menu` is the engine (dialogues as generators: screen text out, typed line in, no I/O of its own),
`screen` and `lineedit` are pure, `backend` does the work through `control` (the running appliance),
`network`/`system` (the host), `auth` (the console password); `terminal` is the tty/pty I/O layer.
"""
