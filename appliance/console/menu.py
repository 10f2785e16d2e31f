"""The console's menu engine: dialogues as generators that yield screens and receive typed lines.

No I/O here: a dialogue yields a `Prompt` (the text to show, whether the answer is secret) and is sent
the line the technician typed; the work is done by the backend it is given (`ConsoleBackend`, or a fake
in tests). Anything out of range or malformed re-prompts with a sentence saying what is expected.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator, Sequence, TypeVar

from appliance.console import network
from appliance.console.errors import InputError
from appliance.console.screen import CLEAR, MenuItem, format_size, pages, parse_choice, parse_yes_no, \
    render_menu, wrap
from appliance.console.status_view import status_lines, summary_line
from appliance.errors import ApplianceError

T = TypeVar("T")
LOG_LINES_DEFAULT = 50
LOG_LINES_MAX = 500
BACKUPS_SHOWN = 15
ERASE_WORD = "ERASE"


@dataclass(frozen=True)
class Prompt:
    """A screen to show and a question; the answer comes back through `send`."""

    text: str
    secret: bool = False


Dialogue = Generator[Prompt, str, T]

MAIN_MENU = [MenuItem(1, "Status: services, hardware, queues"),
             MenuItem(2, "Network: show, set address / gateway / DNS"),
             MenuItem(3, "Restart a service"),
             MenuItem(4, "Show logs"),
             MenuItem(5, "Reset the admin password"),
             MenuItem(6, "Diagnostics: ping, mail account, modems"),
             MenuItem(7, "Backups: list, restore"),
             MenuItem(8, "Factory reset"),
             MenuItem(9, "Reboot"),
             MenuItem(0, "Log out")]
DIAGNOSE_SERVICES = {"mail": "all mail accounts and the relay", "fax": "all fax lines", "sms": "all GSM modems"}
DIAGNOSTICS_ITEMS_MAX = 14   # more than this and the menu offers one entry per service instead (80x24)
NETWORK_MENU = [MenuItem(1, "Show addresses, routes, name servers"),
                MenuItem(2, "Set address, gateway and name servers"), MenuItem(0, "Back")]


def title(backend: Any) -> str:
    """The first line of every screen."""
    return f"Contact-center appliance - serial console - {backend.hostname}"


# --- building blocks ---------------------------------------------------------------------------------
def choose(screen: str, keys: Sequence[int]) -> Dialogue[int]:
    """Ask for one of `keys` until one is typed."""
    note = ""
    low, high = min(keys), max(keys)
    while True:
        line = yield Prompt(f"{screen}{note}Choice [{low}-{high}]: ")
        choice = parse_choice(line, keys)
        if choice is not None:
            return choice
        shown = line.strip()[:20]
        note = f"'{shown}' is not a choice here: type a number from {low} to {high}.\n" if shown else ""


def confirm(question: str, screen: str = "") -> Dialogue[bool]:
    """A yes/no question (below `screen`) that insists on y, yes, n or no."""
    note = ""
    while True:
        answer = parse_yes_no((yield Prompt(f"{screen}{note}{question} [y/n]: ")))
        if answer is not None:
            return answer
        note = "Please answer y or n.\n"


def ask(question: str, parse: Callable[[str], T]) -> Dialogue[T]:
    """Ask until `parse` accepts the line (it raises InputError with the reason otherwise)."""
    note = ""
    while True:
        line = yield Prompt(f"{note}{question}")
        try:
            return parse(line)
        except InputError as exc:
            note = f"Not accepted: {exc}.\n"


def show(heading: str, lines: Sequence[str]) -> Dialogue[None]:
    """Page through output, 22 lines at a time; q leaves early."""
    screens = pages(lines)
    for i, page in enumerate(screens):
        last = i == len(screens) - 1
        tail = "-- Enter: back --" if last else f"-- page {i + 1}/{len(screens)}: Enter for more, q to stop --"
        answer = yield Prompt(CLEAR + heading + "\n" + "\n".join(page) + "\n" + tail + " ")
        if answer.strip().lower() == "q":
            return


def attempt(fn: Callable[[], T], fallback: Callable[[str], T]) -> T:
    """Run a backend call; an error becomes a sentence instead of ending the session."""
    try:
        return fn()
    except InputError:
        raise
    except (ApplianceError, OSError) as exc:
        return fallback(f"failed: {exc}")


# --- the session ----------------------------------------------------------------------------------------
def console_session(backend: Any) -> Dialogue[None]:
    """Password, then the main menu until the technician logs out."""
    yield from login(backend)
    yield from main_menu(backend)


def login(backend: Any) -> Dialogue[None]:
    """Ask for the console password until it is right; a lockout is said plainly."""
    note = ""
    while True:
        password = yield Prompt(f"{CLEAR}{title(backend)}\n\n{note}Console password: ", secret=True)
        result = backend.check_password(password)
        if result.ok:
            return
        if result.no_password:
            note = "No console password is set. As root: `appliance console-password`.\n"
        elif result.locked_for_s:
            note = f"Too many wrong passwords: the console is locked for {result.locked_for_s} s.\n"
        else:
            note = "Wrong password.\n"


def main_menu(backend: Any) -> Dialogue[None]:
    """The numbered main menu."""
    actions = {1: status, 2: network_menu, 3: restart_service, 4: logs, 5: reset_admin_password,
               6: diagnostics, 7: backups, 8: factory_reset, 9: reboot}
    while True:
        screen = CLEAR + render_menu(title(backend) + " - main menu", [summary_line(backend.status())],
                                     MAIN_MENU)
        choice = yield from choose(screen, [i.key for i in MAIN_MENU])
        if choice == 0:
            return
        yield from actions[choice](backend)


def status(backend: Any) -> Dialogue[None]:
    """Services, hardware, queues."""
    yield from show("Status", status_lines(backend.status()))


def restart_service(backend: Any) -> Dialogue[None]:
    """Pick an enabled service and restart it."""
    current = backend.status()
    if current is None:
        yield from show("Restart a service", ["The appliance is not running: nothing to restart.",
                                              "Start it with `systemctl start appliance`."])
        return
    names = [s["name"] for s in current.get("services", []) if s.get("state") != "disabled"]
    items = [MenuItem(i + 1, f"{name} ({next(s['state'] for s in current['services'] if s['name'] == name)})")
             for i, name in enumerate(names)] + [MenuItem(0, "Back")]
    choice = yield from choose(CLEAR + render_menu("Restart a service", [], items), [i.key for i in items])
    if choice == 0:
        return
    name = names[choice - 1]
    if (yield from confirm(f"Restart {name}?")):
        yield from show("Restart a service", [attempt(lambda: backend.restart(name), str)])


def _log_count(text: str) -> int:
    text = text.strip()
    if not text:
        return LOG_LINES_DEFAULT
    if not text.isdigit() or not 1 <= int(text) <= LOG_LINES_MAX:
        raise InputError(f"type a number of lines from 1 to {LOG_LINES_MAX}, or Enter for {LOG_LINES_DEFAULT}")
    return int(text)


def logs(backend: Any) -> Dialogue[None]:
    """The last N lines of the appliance's log."""
    count = yield from ask(f"How many lines [{LOG_LINES_DEFAULT}]: ", _log_count)
    yield from show(f"Last {count} log lines", attempt(lambda: backend.logs(count), lambda e: [e]))


def reset_admin_password(backend: Any) -> Dialogue[None]:
    """A new one-time password for the web console's admin."""
    if not (yield from confirm("Give the web admin a new one-time password?")):
        return
    lines = attempt(lambda: ["New one-time password for the web console (it must be changed at the next login):",
                             f"admin password: {backend.reset_admin_password()}"], lambda e: [e])
    yield from show("Reset the admin password", lines)


def diagnostic_entries(testable: dict[str, Any] | None) -> tuple[list[tuple[str, str | None, str]], list[str]]:
    """The tests the menu offers, (service, item or None for all, label), and header lines on what cannot be
    tested now. Without an answer from the appliance, each service is offered whole (its test then says why)."""
    if testable is None:
        return ([(s, None, f"Test {label}") for s, label in DIAGNOSE_SERVICES.items()],
                ["The appliance does not answer: tests will say why they cannot run."])
    items = [(s, str(i), f"Test {label}") for s, i, label in testable.get("items", [])]
    if len(items) > DIAGNOSTICS_ITEMS_MAX:
        present = dict.fromkeys(s for s, _, _ in items)
        items = [(s, None, f"Test {DIAGNOSE_SERVICES.get(s, s)}") for s in present]
    header = [f"Not testable now: {service}: {why}" for service, why in testable.get("unavailable", [])]
    if not items:
        header.append("Nothing to test: no mail account, fax line or GSM modem is running.")
    return items, header


def diagnostics(backend: Any) -> Dialogue[None]:
    """Ping, and a test of each mail account, the relay, each fax line and GSM modem the appliance runs."""
    while True:
        entries, header = diagnostic_entries(attempt(backend.testable, lambda e: None))
        items = [MenuItem(1, "Ping a host")] + [MenuItem(i + 2, label) for i, (_, _, label) in enumerate(entries)]
        items.append(MenuItem(0, "Back"))
        choice = yield from choose(CLEAR + render_menu("Diagnostics", header, items), [i.key for i in items])
        if choice == 0:
            return
        if choice == 1:
            host = yield from ask("Host name or address to ping (Enter: back): ", str.strip)
            if host:
                try:
                    lines = attempt(lambda: backend.ping(host), lambda e: [e])
                except InputError as exc:
                    lines = [f"Not accepted: {exc}."]
                yield from show(f"ping {host}", wrap(lines))
        else:
            service, item, label = entries[choice - 2]
            yield from show(label, wrap(attempt(lambda: backend.diagnose(service, item), lambda e: [e])))


def network_menu(backend: Any) -> Dialogue[None]:
    """Show or set the network."""
    while True:
        choice = yield from choose(CLEAR + render_menu("Network", [], NETWORK_MENU),
                                   [i.key for i in NETWORK_MENU])
        if choice == 0:
            return
        if choice == 1:
            yield from show("Network", attempt(backend.network_show, lambda e: [e]))
        else:
            yield from set_network(backend)


def set_network(backend: Any) -> Dialogue[None]:
    """Ask for interface, address, gateway, DNS; show the plan; apply after confirmation."""
    known = [n for n in attempt(backend.interfaces, lambda e: []) if n != "lo"]
    default = known[0] if len(known) == 1 else ""
    hint = f" [{default}]" if default else f" ({', '.join(known)})" if known else ""
    iface = yield from ask(f"Interface{hint}: ",
                           lambda t: network.parse_interface(t if t.strip() else default, known))
    address = yield from ask("Address with prefix, e.g. 192.168.1.10/24: ", network.parse_address)
    gateway = yield from ask("Default gateway (Enter: none): ", lambda t: network.parse_gateway(t, address))
    dns = yield from ask("Name servers, up to 3 (Enter: unchanged): ", network.parse_dns)
    plan = network.NetworkPlan(iface, address, gateway, dns)
    summary = "\n".join(network.describe_plan(plan))
    if not (yield from confirm("Apply these settings now? The connection may drop.",
                               f"{CLEAR}New network settings\n{summary}\n\n")):
        yield from show("Network", ["Nothing was changed."])
        return
    yield from show("Network: applied", attempt(lambda: backend.apply_network(plan), lambda e: [e]))


def backups(backend: Any) -> Dialogue[None]:
    """List backups; restore one (only with the appliance stopped)."""
    found = attempt(backend.backups, lambda e: [])[:BACKUPS_SHOWN]
    if not found:
        yield from show("Backups", ["No backups in the data directory yet.",
                                    "Make one in the web console (Backups) or with `appliance backup`."])
        return
    items = [MenuItem(i + 1, f"{b.path.name}  {format_size(b.size):>9}  {b.created:%Y-%m-%d %H:%M}")
             for i, b in enumerate(found)] + [MenuItem(0, "Back")]
    screen = CLEAR + render_menu("Backups (choose one to restore it)", [], items)
    choice = yield from choose(screen, [i.key for i in items])
    if choice == 0:
        return
    chosen = found[choice - 1]
    if (yield from confirm(f"Replace ALL current data with {chosen.path.name}?")):
        yield from show("Restore", attempt(lambda: backend.restore(chosen.path), lambda e: [e]))


def factory_reset(backend: Any) -> Dialogue[None]:
    """Wipe everything after two confirmations."""
    warning = (f"{CLEAR}FACTORY RESET\n\nThis deletes every ticket, customer, recording, fax, setting, key and "
               "backup\nin the data directory, then sets the appliance up as new with new passwords.\n\n")
    if not (yield from confirm("Really delete everything?", warning)):
        return
    word = yield Prompt(f"Type {ERASE_WORD} in capitals to confirm (anything else cancels): ")
    if word.strip() != ERASE_WORD:
        yield from show("Factory reset", ["Cancelled: nothing was deleted."])
        return
    yield from show("Factory reset", attempt(backend.factory_reset, lambda e: [e]))


def reboot(backend: Any) -> Dialogue[None]:
    """Reboot the host after confirmation."""
    if (yield from confirm("Reboot the appliance now?")):
        yield from show("Reboot", attempt(backend.reboot, lambda e: [e]))
