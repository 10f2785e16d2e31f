"""Class 2 / 2.0 for the emulated modem: not built yet; the mixin keeps the composition in place."""
from __future__ import annotations

from hardware.fax_modem.t30.emulator_at import ModemBase


class Class2Mixin(ModemBase):
    """T.32 / SP-2388 service class 2 and 2.0 commands."""
