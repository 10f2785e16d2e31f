"""GSM modems: SMS PDU codec, modem emulator, and the AT driver (TS 23.040, 23.038, 27.005, 27.007)."""
from hardware.gsm.errors import GsmError, ModemError, ModemUnavailable, PduError

__all__ = ["GsmError", "ModemError", "ModemUnavailable", "PduError"]
