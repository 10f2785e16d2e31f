"""T.30 fax sessions: the T.30 engine, the Class 1 and Class 2 / 2.0 drivers, the emulated modems and line.

Not built: ECM (T.30 Annex A/C) — never offered in DIS, a DCS asking for it is refused.

Public API:
    FaxModem(url, cls="1" | "2" | "2.0", local_id=..., caps=..., timers=..., quality=...)
        await open() / close(); async with
        await send(number, pages) -> SendReport
        await receive(timeout=None, rings=1) -> ReceivedFax
        on_event(callback(LineEvent))
    SendReport, PageReport, ReceivedFax, ReceivedPage, PageStatus, LineEvent, LineState
    Capabilities, Mode, Timers; T30Session and the frame codec for lower-level use
    Exchange, Faults, FaxModemEmulator (emulator.py) for tests and `make run`; Class 1, 2 and 2.0 modems,
        also from a shell: python -m hardware.fax_modem.t30.emulator --pty --class 2.0 --number 100
    Class2Driver (class2.py) and the Class 2 / 2.0 report codec (class2_codes.py) for lower-level use
    Errors: T30Error > FrameError, DleError, ParamError, ModemError, CallFailed (all FaxError)
"""
from hardware.fax_modem.t30.caps import Capabilities, Mode, Modulation, negotiate
from hardware.fax_modem.t30.errors import CallFailed, DleError, FrameError, ModemError, ParamError, T30Error
from hardware.fax_modem.t30.frames import FCF, Frame, decode_frame, encode_frame
from hardware.fax_modem.t30.modem import FaxModem
from hardware.fax_modem.t30.pagedata import CopyQuality, PageStatus
from hardware.fax_modem.t30.reports import LineEvent, LineState, PageReport, ReceivedFax, ReceivedPage, SendReport
from hardware.fax_modem.t30.session import T30Session, Timers

__all__ = [
    "FCF", "CallFailed", "Capabilities", "CopyQuality", "DleError", "FaxModem", "Frame", "FrameError", "LineEvent",
    "LineState", "Mode", "ModemError", "Modulation", "ParamError", "PageReport", "PageStatus", "ReceivedFax", "ReceivedPage",
    "SendReport", "T30Error", "T30Session", "Timers", "decode_frame", "encode_frame", "negotiate",
]
