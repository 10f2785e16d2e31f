"""T.30 fax sessions: the T.30 engine, the Class 1 driver, and the emulated modems and line.

Not built yet: the Class 2 / 2.0 drivers and the Class 2 / 2.0 side of the emulator (so no efax
Class 2 or mgetty sendfax 2.0 interop), and ECM.

Public API:
    FaxModem(url, cls="1", local_id=..., caps=..., timers=..., quality=...)
        await open() / close(); async with
        await send(number, pages) -> SendReport
        await receive(timeout=None, rings=1) -> ReceivedFax
        on_event(callback(LineEvent))
    SendReport, PageReport, ReceivedFax, ReceivedPage, PageStatus, LineEvent, LineState
    Capabilities, Mode, Timers; T30Session and the frame codec for lower-level use
    Exchange, Faults, FaxModemEmulator (emulator.py) for tests and `make run`
    Errors: T30Error > FrameError, DleError, ModemError, CallFailed (all FaxError)
"""
from hardware.fax_modem.t30.caps import Capabilities, Mode, Modulation, negotiate
from hardware.fax_modem.t30.errors import CallFailed, DleError, FrameError, ModemError, T30Error
from hardware.fax_modem.t30.frames import FCF, Frame, decode_frame, encode_frame
from hardware.fax_modem.t30.modem import FaxModem
from hardware.fax_modem.t30.pagedata import CopyQuality, PageStatus
from hardware.fax_modem.t30.reports import LineEvent, LineState, PageReport, ReceivedFax, ReceivedPage, SendReport
from hardware.fax_modem.t30.session import T30Session, Timers

__all__ = [
    "FCF", "CallFailed", "Capabilities", "CopyQuality", "DleError", "FaxModem", "Frame", "FrameError", "LineEvent",
    "LineState", "Mode", "ModemError", "Modulation", "PageReport", "PageStatus", "ReceivedFax", "ReceivedPage",
    "SendReport", "T30Error", "T30Session", "Timers", "decode_frame", "encode_frame", "negotiate",
]
