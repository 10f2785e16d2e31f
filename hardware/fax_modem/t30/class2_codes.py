"""Class 2 (EIA-592 draft / SP-2388) and Class 2.0 (ITU-T T.32, TIA-592) codes: pure, no I/O.

Written by hand: no maintained library parses the service class 2 responses.

    params = parse_params("1,5,0,2,0,0,0,0")      # T30Params(vr=1, br=5, wd=0, ln=2, df=0, ...)
    mode = mode_of_params(params)                 # Mode(14400, V.17, fine, 1728, ...)
    names = COMMANDS[Dialect.CLASS20]             # names.dis == "+FIS", names.hangup == "+FHS"
    HANGUP_CAUSES[25]                             # "DCS sent three times without response"

The session parameter list (+FDCC/+FCC, +FDIS/+FIS, +FDCS/+FCS) is the same in both dialects
(T.32 +FCC / SP-2388 +FDCC): VR resolution, BR bit rate, WD width, LN length, DF coding, EC error
correction, BF file transfer, ST minimum scan time.  Class 2 prints it in decimal; T.32 uses
hexadecimal for every numeric value, which for these small fields reads the same except BR > 9.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, fields, replace

from hardware.fax_modem.t30.caps import WIDTHS, Capabilities, Mode, Modulation
from hardware.fax_modem.t30.errors import ParamError
from hardware.fax_modem.t30.pagedata import PageStatus
from hardware.fax_modem.t30.session import PostPage


class Dialect(enum.Enum):
    """Which service class the modem speaks."""

    CLASS2 = "2"  # EIA-592 draft as USRobotics, ZyXEL and Rockwell shipped it (SP-2388)
    CLASS20 = "2.0"  # ITU-T T.32 / TIA-592


@dataclass(frozen=True)
class CommandNames:
    """The AT names of one dialect (T.32 §8 renamed most of the Class 2 draft's commands)."""

    local_id: str
    capabilities: str
    session: str
    negotiated: str
    connect: str
    remote_csi: str
    remote_tsi: str
    hangup: str
    page_status: str
    bit_order: str
    abort: str
    min_speed: str


COMMANDS = {
    Dialect.CLASS2: CommandNames("+FLID", "+FDCC", "+FDIS", "+FDCS", "+FCON", "+FCSI", "+FTSI", "+FHNG",
                                 "+FPTS", "+FBOR", "+FK", "+FMINSP"),
    Dialect.CLASS20: CommandNames("+FLI", "+FCC", "+FIS", "+FCS", "+FCO", "+FCI", "+FTI", "+FHS",
                                  "+FPS", "+FBO", "+FKS", "+FMS"),
}

# --- session parameters ---------------------------------------------------------------------------
# BR codes (T.32 +FCC / SP-2388 +FDCC): 0=2400 ... 5=14400 bit/s.
BIT_RATES = (2400, 4800, 7200, 9600, 12000, 14400)
# ST codes: minimum scan time (ms at normal resolution, ms at fine resolution).
SCAN_TIMES = ((0, 0), (5, 5), (10, 5), (10, 10), (20, 10), (20, 20), (40, 20), (40, 40))
LENGTHS = ("A4", "B4", "unlimited")
RANGES = "(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)"  # what our emulated modems support
_LIMITS = {"vr": 1, "br": 5, "wd": 2, "ln": 2, "df": 3, "ec": 3, "bf": 1, "st": 7}


@dataclass(frozen=True)
class T30Params:
    """One +FDCC/+FDIS/+FDCS parameter list (each field is the code, not the value)."""

    vr: int = 1
    br: int = 5
    wd: int = 0
    ln: int = 2
    df: int = 0
    ec: int = 0
    bf: int = 0
    st: int = 0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not 0 <= value <= _LIMITS[item.name]:
                raise ParamError(f"{item.name.upper()}={value} is outside 0-{_LIMITS[item.name]} (T.32 +FCC ranges)")

    def merged(self, text: str, *, hexadecimal: bool = False) -> T30Params:
        """These parameters with the ones given in `text` ('1,,0' changes VR and WD only)."""
        values = _split(text, hexadecimal)
        names = [item.name for item in fields(self)]
        if len(values) > len(names) + 2:  # T.32 adds JP and ... at the end: tolerated, ignored
            raise ParamError(f"{len(values)} values in {text!r}, at most {len(names)} expected")
        changes = {name: value for name, value in zip(names, values) if value is not None}
        return replace(self, **changes)

    def format(self, *, hexadecimal: bool = False) -> str:
        """'1,5,0,2,0,0,0,0' (hexadecimal digits for Class 2.0, as T.32 prints numbers)."""
        spec = "X" if hexadecimal else "d"
        return ",".join(format(getattr(self, item.name), spec) for item in fields(self))


def _split(text: str, hexadecimal: bool) -> list[int | None]:
    body = text.strip()
    if ":" in body:
        body = body.split(":", 1)[1]  # '+FDCS: 1,5,...' as well as bare values
    out: list[int | None] = []
    for part in body.split(","):
        token = part.strip()
        if not token:
            out.append(None)
            continue
        try:
            out.append(int(token, 16 if hexadecimal else 10))
        except ValueError:
            raise ParamError(f"{token!r} is not a number in {text!r}") from None
    return out


def parse_params(text: str, *, hexadecimal: bool = False) -> T30Params:
    """A full parameter list from a response such as '+FDCS:1,5,0,2,0,0,0,0'; ParamError if malformed."""
    values = _split(text, hexadecimal)
    if len(values) < 4 or any(v is None for v in values[:4]):
        raise ParamError(f"{text!r} has fewer than the four VR,BR,WD,LN values")
    return T30Params().merged(text, hexadecimal=hexadecimal)


def caps_of_params(params: T30Params) -> Capabilities:
    """What a station with these +FDCC/+FDIS parameters can receive (for our DIS)."""
    rate = BIT_RATES[params.br]
    mods = (Modulation.V27TER,) + ((Modulation.V29,) if rate >= 7200 else ())
    if rate >= 12000:
        mods += (Modulation.V17,)
    return Capabilities(modulations=mods, fine=bool(params.vr), two_d=params.df >= 1,
                        max_width=WIDTHS[params.wd], length=LENGTHS[params.ln],
                        min_scan_ms=SCAN_TIMES[params.st], max_rate=rate)


def params_of_caps(caps: Capabilities) -> T30Params:
    """The +FDIS list describing a remote DIS (the best each field allows)."""
    rate = max((r for r, _ in caps.rates()), default=2400)
    return T30Params(vr=int(caps.fine), br=BIT_RATES.index(rate) if rate in BIT_RATES else 0,
                     wd=WIDTHS.index(caps.max_width) if caps.max_width in WIDTHS else 0,
                     ln=LENGTHS.index(caps.length), df=int(caps.two_d), ec=int(caps.ecm),
                     st=SCAN_TIMES.index(caps.min_scan_ms) if caps.min_scan_ms in SCAN_TIMES else 0)


def params_of_mode(mode: Mode) -> T30Params:
    """The +FDCS list of a negotiated mode."""
    scan = next((code for code, (normal, fine) in enumerate(SCAN_TIMES) if normal == fine == mode.min_scan_ms), 0)
    return T30Params(vr=int(mode.fine), br=BIT_RATES.index(mode.bit_rate), wd=WIDTHS.index(mode.width),
                     ln=LENGTHS.index(mode.length), df=int(mode.two_d), ec=int(mode.ecm), st=scan)


def mode_of_params(params: T30Params) -> Mode:
    """The session mode a +FDCS list announces (the modulation is the usual one for the rate)."""
    rate = BIT_RATES[params.br]
    modulation = Modulation.V27TER if rate <= 4800 else Modulation.V29 if rate in (7200, 9600) else Modulation.V17
    if params.df > 1:
        raise ParamError(f"DF={params.df} (uncompressed or T.6) is not a coding this driver sends or decodes")
    normal, fine = SCAN_TIMES[params.st]
    return Mode(bit_rate=rate, modulation=modulation, fine=bool(params.vr), two_d=params.df == 1,
                width=WIDTHS[params.wd], length=LENGTHS[params.ln], min_scan_ms=fine if params.vr else normal,
                ecm=bool(params.ec))


# --- page status, post-page messages, hang-up causes -------------------------------------------------
# +FPTS / +FPS values (SP-2388 +FPTS, T.32 +FPS): the post-page response.
PAGE_STATUS_OF_CODE = {1: PageStatus.MCF, 2: PageStatus.RTN, 3: PageStatus.RTP, 4: PageStatus.PIN,
                       5: PageStatus.PIP}
CODE_OF_PAGE_STATUS = {status: code for code, status in PAGE_STATUS_OF_CODE.items()}
# +FET values (SP-2388 and T.32 +FET): what follows the page.
POST_PAGE_OF_FET = {0: PostPage.MPS, 1: PostPage.EOM, 2: PostPage.EOP}
FET_OF_POST_PAGE = {ppm: code for code, ppm in POST_PAGE_OF_FET.items()}
# T.32 +FDT: in Class 2.0 the DTE ends a page with <DLE> and one of these, not <DLE><ETX> + AT+FET.
POST_PAGE_OF_DLE = {0x2C: PostPage.MPS, 0x3B: PostPage.EOM, 0x2E: PostPage.EOP}
DLE_OF_POST_PAGE = {ppm: code for code, ppm in POST_PAGE_OF_DLE.items()}

# Hang-up status codes (+FHNG in SP-2388, +FHS in T.32); the tens say which phase failed.
HANGUP_CAUSES = {
    0: "normal end of connection", 1: "ring detect without successful handshake",
    2: "call aborted from +FK or <CAN>", 3: "no loop current", 4: "ringback detected, no answer (timeout)",
    5: "ringback detected, answer without CED", 10: "unspecified phase A error", 11: "no answer (T.30 T1 timeout)",
    20: "unspecified transmit phase B error", 21: "remote cannot receive or send", 22: "COMREC error in transmit phase B",
    23: "COMREC invalid command received", 24: "RSPREC error", 25: "DCS sent three times without response",
    26: "DIS/DTC received 3 times; DCS not recognised", 27: "failure to train at 2400 bit/s or +FMINSP value",
    28: "RSPREC invalid response received", 40: "unspecified transmit phase C error",
    41: "unspecified image format error", 42: "image conversion error", 43: "DTE to DCE data underflow",
    44: "unrecognised transparent data command", 45: "image error, line length wrong",
    46: "image error, page length wrong", 47: "image error, wrong compression code",
    50: "unspecified transmit phase D error", 51: "RSPREC error", 52: "no response to MPS repeated 3 times",
    53: "invalid response to MPS", 54: "no response to EOP repeated 3 times", 55: "invalid response to EOP",
    56: "no response to EOM repeated 3 times", 57: "invalid response to EOM", 58: "unable to continue after PIN or PIP",
    70: "unspecified receive phase B error", 71: "RSPREC error", 72: "COMREC error",
    73: "T.30 T2 timeout, expected page not received", 74: "T.30 T1 timeout after EOM received",
    90: "unspecified receive phase C error", 91: "missing EOL after 5 seconds", 93: "DCE to DTE buffer overflow",
    94: "bad CRC or frame (ECM mode)", 100: "unspecified receive phase D error",
    101: "RSPREC invalid response received", 102: "COMREC invalid response received",
    103: "unable to continue after PIN or PIP",
}


def hangup_text(code: int) -> str:
    """What a hang-up code means ('reserved code' for the ones no standard defines)."""
    if code in HANGUP_CAUSES:
        return HANGUP_CAUSES[code]
    phase = {0: "call placement", 1: "transmit phase A", 2: "transmit phase B", 3: "transmit phase B",
             4: "transmit phase C", 5: "transmit phase D", 6: "transmit phase D", 7: "receive phase B",
             8: "receive phase B", 9: "receive phase C", 10: "receive phase D", 11: "receive phase D"}.get(code // 10)
    return f"unspecified {phase} error" if phase else f"reserved hang-up code {code}"


def parse_hangup(text: str) -> int:
    """The code of a '+FHNG:25' / '+FHS:25' line (decimal digits in both dialects); ParamError if none."""
    body = text.split(":", 1)[-1].strip()
    digits = body.split(",")[0].strip()
    if not digits.isdigit() or not digits.isascii() or len(digits) > 3:
        raise ParamError(f"no hang-up code in {text!r}")
    return int(digits)


def parse_page_status(text: str, *, hexadecimal: bool = False) -> tuple[PageStatus, tuple[int, ...]]:
    """'+FPTS:1,2200,0,0,0' -> (MCF, (2200, 0, 0, 0)); ParamError for a code outside 1-5."""
    body = text.split(":", 1)[-1]
    parts = [p.strip() for p in body.split(",")]
    try:
        code = int(parts[0])
        counts = tuple(int(p, 16 if hexadecimal else 10) if p else 0 for p in parts[1:5])
    except ValueError:
        raise ParamError(f"bad page status {text!r}") from None
    if code not in PAGE_STATUS_OF_CODE:
        raise ParamError(f"page status {code} in {text!r} is not one of 1-5")
    return PAGE_STATUS_OF_CODE[code], counts


def parse_station_id(text: str) -> str:
    """The identity in '+FCSI: "  +49 30 1234"' or '+FTI:12345' (quotes and padding removed)."""
    body = text.split(":", 1)[-1].strip()
    if len(body) >= 2 and body[0] == body[-1] == '"':
        body = body[1:-1]
    return "".join(ch for ch in body if " " <= ch <= "~").strip()
