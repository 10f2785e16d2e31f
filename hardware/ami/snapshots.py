"""Channel and bridge snapshots: the prefixed field groups most AMI events are built from.

`<prefix>Channel` … `<prefix>Linkedid` come from `ast_manager_build_channel_state_string_prefix`
(main/manager_channels.c), `<prefix>Bridge…` from `ast_manager_build_bridge_state_string_prefix`
(main/manager_bridges.c). Parsing is tolerant: bad numbers become defaults, never exceptions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hardware.ami.codec import Packet

UNKNOWN = "<unknown>"  # what Asterisk writes for an empty caller id or bridge name


def as_int(value: str | None, default: int = 0) -> int:
    """An AMI number, or `default` when absent or not a number."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class ChannelSnapshot:
    """The 14 channel fields Asterisk writes for `<prefix>Channel` … `<prefix>Linkedid`."""

    channel: str
    state: int
    state_desc: str
    caller_id_num: str
    caller_id_name: str
    connected_line_num: str
    connected_line_name: str
    language: str
    account_code: str
    context: str
    exten: str
    priority: int
    uniqueid: str
    linkedid: str
    variables: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_packet(cls, packet: Packet, prefix: str = "") -> "ChannelSnapshot | None":
        """The snapshot under `prefix` (``Dest``, ``Transferee`` …), or None if the packet has none."""
        name = packet.get(prefix + "Channel")
        uniqueid = packet.get(prefix + "Uniqueid")
        if name is None or uniqueid is None:
            return None
        get = lambda key: packet.get(prefix + key, "") or ""  # noqa: E731 - tiny local accessor
        variables: dict[str, str] = {}
        # `<prefix>ChanVariable: name=value`, one line per channelvars entry (manager_channels.c).
        for entry in packet.get_all(prefix + "ChanVariable"):
            k, _, v = entry.partition("=")
            variables[k] = v
        return cls(
            channel=name, state=as_int(packet.get(prefix + "ChannelState")), state_desc=get("ChannelStateDesc"),
            caller_id_num=get("CallerIDNum"), caller_id_name=get("CallerIDName"),
            connected_line_num=get("ConnectedLineNum"), connected_line_name=get("ConnectedLineName"),
            language=get("Language"), account_code=get("AccountCode"), context=get("Context"),
            exten=get("Exten"), priority=as_int(packet.get(prefix + "Priority"), 1),
            uniqueid=uniqueid, linkedid=get("Linkedid") or uniqueid, variables=variables,
        )

    @property
    def caller_number(self) -> str | None:
        """The caller id number, None where Asterisk says `<unknown>`."""
        return None if self.caller_id_num in ("", UNKNOWN) else self.caller_id_num

    @property
    def connected_number(self) -> str | None:
        """The connected line number, None where Asterisk says `<unknown>`."""
        return None if self.connected_line_num in ("", UNKNOWN) else self.connected_line_num


@dataclass(frozen=True)
class BridgeSnapshot:
    """`<prefix>BridgeUniqueid` … `<prefix>BridgeVideoSourceMode` (main/manager_bridges.c)."""

    uniqueid: str
    bridge_type: str
    technology: str
    creator: str
    name: str
    num_channels: int

    @classmethod
    def from_packet(cls, packet: Packet, prefix: str = "") -> "BridgeSnapshot | None":
        """The bridge under `prefix`, or None."""
        uniqueid = packet.get(prefix + "BridgeUniqueid")
        if uniqueid is None:
            return None
        return cls(uniqueid, packet.get(prefix + "BridgeType", "") or "",
                   packet.get(prefix + "BridgeTechnology", "") or "", packet.get(prefix + "BridgeCreator", "") or "",
                   packet.get(prefix + "BridgeName", "") or "", as_int(packet.get(prefix + "BridgeNumChannels")))
