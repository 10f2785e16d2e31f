"""pysnmp's MIB instrumentation interface answered from a MibView instead of pysnmp's own tree.

pysnmp's command responders (entity/rfc3413/cmdrsp.py) call read_variables, read_next_variables
and write_variables with an `acFun` that applies VACM (RFC 3415); we honour it exactly as
pysnmp's own MibTree does: a True result means "not in view", an exception means "no access".
"""
from __future__ import annotations

from typing import Any, Callable

from pysnmp.proto import rfc1902
from pysnmp.smi import error as smi_error
from pysnmp.smi import exval

from appliance.snmp.const import Oid
from appliance.snmp.view import MibView

ViewSource = Callable[[bool], MibView]  # argument: fresh (rebuild now) or a recent view


class ViewInstrumentation:
    """Read-only instrumentation over the current view; every write is refused."""

    def __init__(self, source: ViewSource) -> None:
        self._source = source

    @staticmethod
    def _hidden(oid: Oid, value: Any, context: dict[str, Any]) -> bool:
        ac = context.get("acFun")
        return bool(ac and ac("read", (rfc1902.ObjectName(oid), value), **context))

    def read_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        """GET (RFC 3416 §4.2.1): value, noSuchObject or noSuchInstance per variable."""
        view = self._source(True)  # a GET is one round trip: always the live values
        out = []
        for idx, (name, _) in enumerate(var_binds):
            context["idx"] = idx
            oid = tuple(name)
            value = view.get(oid)
            if self._hidden(oid, value, context):
                out.append((name, exval.noSuchObject))
            elif value is not None:
                out.append((rfc1902.ObjectName(oid), value))
            elif oid and view.has_prefix(oid[:-1]):
                out.append((name, exval.noSuchInstance))
            else:
                out.append((name, exval.noSuchObject))
        return out

    def read_next_variables(self, *var_binds: tuple[Any, Any],
                            **context: Any) -> list[tuple[Any, Any]]:
        """GETNEXT (RFC 3416 §4.2.2): the next object in view, or endOfMibView."""
        view = self._source(False)  # a walk is many round trips: one picture for all of them
        out = []
        for idx, (name, _) in enumerate(var_binds):
            context["idx"] = idx
            oid: Oid = tuple(name)
            while True:
                found = view.next_after(oid)
                if found is None:
                    out.append((name, exval.endOfMibView))
                    break
                oid, value = found
                if not self._hidden(oid, value, context):
                    out.append((rfc1902.ObjectName(oid), value))
                    break
        return out

    def write_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        """SET: nothing here is writable (RFC 3416 §4.2.5: notWritable)."""
        ac = context.get("acFun")
        for idx, (name, value) in enumerate(var_binds):
            context["idx"] = idx
            if ac:
                ac("write", (name, value), **context)  # raises for a view without write access
            raise smi_error.NotWritableError(name=name, idx=idx)
        return []
