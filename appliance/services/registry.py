"""The ordered list of every service of DESIGN.md, each honest about whether it is built."""
from __future__ import annotations

from typing import Callable

from appliance.supervisor import Service, ServiceContext, ServiceSpec

# Services that other issues build. They are registered now so the admin console, /healthz and
# SNMP show the whole appliance, and each says plainly why it is not running.
NOT_BUILT: dict[str, str] = {
    "isdn_fax": "not built yet: ISDN/CAPI fax cards",
    "scanner": "not built yet: scanner and hot-folder intake",
    "archive": "not built yet: long-term TLS archive",
}

START_ORDER = ["scheduler", "pbx_bridge", "fax", "isdn_fax", "scanner", "mail", "sms", "archive",
               "snmp", "console", "webui"]


def build_specs(builders: dict[str, Callable[[ServiceContext], Service]],
                contexts: dict[str, ServiceContext]) -> list[ServiceSpec]:
    """Specs in start order: built services get a factory, the rest their reason."""
    specs = []
    for name in START_ORDER:
        if name in builders:
            builder, ctx = builders[name], contexts[name]
            specs.append(ServiceSpec(name, lambda b=builder, c=ctx: b(c)))
        else:
            specs.append(ServiceSpec(name, None, NOT_BUILT.get(name, "not built")))
    return specs
