"""Reset the web admin's password from the console; the web login then works with it (both databases)."""
from __future__ import annotations

import asyncio

from tests.appliance.console.pty_user import MENU, log_in, spawn_console, type_line
from tests.appliance.webui.helpers import login, login_admin


async def test_reset_admin_password_then_web_login_works(appliance, http, first_boot, app_env) -> None:
    await login_admin(http, first_boot.admin_password, new="Before-Reset-77")

    def technician() -> str:
        term = spawn_console({**app_env, "APPLIANCE_CONSOLE_DRY_RUN": "true"})
        log_in(term, first_boot.console_password)
        type_line(term, "5")
        term.expect(r"one-time password\? \[y/n\]: ")
        type_line(term, "y")
        term.expect(r"admin password: (\S+)")
        password = term.match.group(1)
        type_line(term, "")
        term.expect(MENU)
        type_line(term, "0")
        term.close()
        return password

    password = await asyncio.to_thread(technician)
    assert (await login(http, "admin", "Before-Reset-77")).status == 401  # the old one is gone
    http.cookie_jar.clear()
    await login_admin(http, password, new="After-Reset-88")  # one-time: the change is forced
    http.cookie_jar.clear()
    assert (await login(http, "admin", "After-Reset-88")).headers["Location"] == "/admin"
