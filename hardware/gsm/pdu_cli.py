"""Command line of the PDU codec: `python -m hardware.gsm.pdu decode HEX | encode --to N [--smsc N] TEXT`.

Exit status 2 with a one-line message on bad input (argparse does the same for bad arguments).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from hardware.gsm.errors import PduError
from hardware.gsm.fields import Address, UserDataHeader
from hardware.gsm.pdu import DeliverPdu, Pdu, SubmitPdu, cmgs_length, decode_hex, encode_pdu, split_text


def _address(addr: Address | None) -> str | None:
    return None if addr is None else str(addr)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _udh(udh: UserDataHeader | None) -> list[dict[str, Any]]:
    return [{"iei": ie.iei, "data": ie.data.hex().upper()} for ie in udh.elements] if udh else []


def describe(msg: Pdu) -> dict[str, Any]:
    """A JSON-able view of a decoded PDU (what `decode` prints)."""
    concat = msg.udh.concat if msg.udh else None
    out: dict[str, Any] = {
        "smsc": _address(msg.smsc),
        "text": msg.text,
        "payload": msg.payload.hex().upper() if msg.text is None else None,
        "udh": _udh(msg.udh),
        "concat": None if concat is None else {"reference": concat.reference, "total": concat.total,
                                               "sequence": concat.sequence, "wide": concat.wide},
    }
    if isinstance(msg, DeliverPdu):
        out.update(type="SMS-DELIVER", sender=_address(msg.sender), sender_ton=msg.sender.ton,
                   timestamp=_stamp(msg.timestamp), pid=msg.pid)
    elif isinstance(msg, SubmitPdu):
        validity = None
        if msg.validity is not None:
            validity = {"relative_seconds": msg.validity.relative.total_seconds() if msg.validity.relative else None,
                        "absolute": _stamp(msg.validity.absolute)}
        out.update(type="SMS-SUBMIT", sender=None, recipient=_address(msg.to), timestamp=None,
                   reference=msg.reference, pid=msg.pid, validity=validity,
                   status_report_request=msg.status_report_request)
    else:
        out.update(type="SMS-STATUS-REPORT", sender=None, recipient=_address(msg.recipient),
                   timestamp=_stamp(msg.timestamp), discharge_time=_stamp(msg.discharge_time),
                   reference=msg.reference, status=msg.status, delivered=msg.delivered)
    dcs = msg.dcs
    out["dcs"] = None if dcs is None else {"raw": dcs.raw, "alphabet": dcs.alphabet.value,
                                           "class": dcs.message_class, "compressed": dcs.compressed}
    return out


def main(argv: list[str]) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m hardware.gsm.pdu", description="SMS PDU codec")
    sub = parser.add_subparsers(dest="cmd", required=True)
    dec = sub.add_parser("decode", help="decode a hex PDU to JSON")
    dec.add_argument("hex")
    dec.add_argument("--no-smsc", action="store_true", help="the PDU has no SMSC prefix")
    enc = sub.add_parser("encode", help="encode text as SMS-SUBMIT PDU(s), one '<hex> <length>' a line")
    enc.add_argument("--to", required=True)
    enc.add_argument("--smsc")
    enc.add_argument("--reference", type=int, default=0, help="concatenation reference (0..255)")
    enc.add_argument("--status-report", action="store_true")
    enc.add_argument("text")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "decode":
            print(json.dumps(describe(decode_hex(args.hex, smsc=not args.no_smsc)), ensure_ascii=False))
        else:
            smsc = Address.parse(args.smsc) if args.smsc else None
            for part in split_text(args.text, Address.parse(args.to), smsc=smsc, reference=args.reference,
                                   status_report=args.status_report):
                raw = encode_pdu(part)
                print(raw.hex().upper(), cmgs_length(raw))
    except PduError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
