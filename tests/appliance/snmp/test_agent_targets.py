"""The agent's receivers replaced while it runs: one set of keys per SNMPv3 user name, refusals named."""
from __future__ import annotations

from appliance.snmp import credentials
from appliance.snmp.agent import Agent, AgentSettings
from appliance.snmp.receivers import Target
from appliance.snmp.view import MibView

ADDRESS = ("127.0.0.1", 16200)


def agent() -> Agent:
    return Agent(AgentSettings("127.0.0.1", 0, credentials.generate()), lambda fresh: MibView({}))


def v3(name: str, user: str, auth: str = "auth-key-one", priv: str = "priv-key-one") -> Target:
    return Target(name, "127.0.0.1", 16200, "v3", user=user, auth=auth, priv=priv)


def test_one_user_name_one_set_of_keys() -> None:
    a = agent()
    own = a.settings.v3
    a.set_targets([(v3("receiver-1", "nms"), ADDRESS), (v3("receiver-2", "nms"), ADDRESS),
                   (v3("receiver-3", "nms", priv="other-priv-key"), ADDRESS),
                   (v3("receiver-4", own.user), ADDRESS),
                   (v3("receiver-5", own.user, own.auth, own.priv), ADDRESS)])
    errors = {name: c.error for name, c in a.targets.items()}
    assert errors["receiver-1"] == errors["receiver-2"] == errors["receiver-5"] == ""
    assert "already used with other keys" in errors["receiver-3"] and "own user name" in errors["receiver-3"]
    assert "already used with other keys" in errors["receiver-4"]  # never the agent's read user with new keys
    assert a.usable_targets() == ["receiver-1", "receiver-2", "receiver-5"]
    assert a.usable_targets("receiver-3") == []


def test_targets_are_replaced_again_and_again() -> None:
    a = agent()
    v2c = Target("receiver-9", "127.0.0.1", 16200, "v2c", community="c0mm")
    for round_ in range(3):
        a.set_targets([(v2c, ADDRESS), (v3("receiver-1", "nms", auth=f"auth-key-{round_}x"), ADDRESS)])
        assert a.usable_targets() == ["receiver-9", "receiver-1"]
    a.set_targets([])
    assert a.targets == {} and a.usable_targets() == []
    assert a.notify((1, 3, 6, 1, 4, 1, 99999, 0, 8), 0, []) is False  # nobody to send to
