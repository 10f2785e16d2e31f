"""The fax driver against a real fax modem on a real line, selected by environment variables.

APPLIANCE_HW_FAX           port: /dev/ttyUSB0, or any open_transport URL (serial:///dev/ttyS0?baud=19200&rtscts=1)
APPLIANCE_HW_FAX_CLASS     1 (default), 2 or 2.0
APPLIANCE_HW_FAX_SEND_TO   a fax number that may receive a two-page test fax; without it nothing is sent
APPLIANCE_HW_FAX_RECEIVE=1 wait (up to 5 minutes) for a fax sent to the modem's line and check it
APPLIANCE_HW_FAX_ID        our station id (CSI/TSI), default "APPLIANCE TEST"
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from hardware.fax_modem.t30 import FaxModem, PageStatus, ReceivedPage
from hardware.fax_modem.t30.class2_codes import COMMANDS, Dialect, parse_params
from hardware.fax_modem.t4 import Page
from hardware.serial import AtChannel

PORT = os.environ.get("APPLIANCE_HW_FAX")
CLASS = os.environ.get("APPLIANCE_HW_FAX_CLASS", "1")
pytestmark = pytest.mark.skipif(not PORT, reason="set APPLIANCE_HW_FAX=/dev/ttyUSB0 to run against a fax modem")


def url() -> str:
    assert PORT is not None
    return PORT if "://" in PORT else f"serial://{PORT}"


def sample_page(seed: int) -> Page:
    rows = [bytes((0xFF if (r // 40 + c // 6 + seed) % 5 == 0 else 0) for c in range(216)) for r in range(1100)]
    return Page.from_rows(rows, 1728, 196)


@pytest.fixture
async def modem() -> AsyncIterator[FaxModem]:
    modem = await FaxModem(url(), CLASS, local_id=os.environ.get("APPLIANCE_HW_FAX_ID", "APPLIANCE TEST")).open()
    yield modem
    await modem.close()


async def test_modem_supports_the_class() -> None:
    channel = await AtChannel.open(url())
    try:
        await channel.command("ATE0V1Q0", timeout=5)
        classes = (await channel.command("AT+FCLASS=?", timeout=5, check=True)).text.replace("(", "").replace(")", "")
        assert CLASS in [c.strip() for c in classes.split(",")] or (CLASS == "1" and "1.0" in classes)
        if CLASS == "1":
            await channel.command("AT+FCLASS=1", timeout=5, check=True)
            rates = (await channel.command("AT+FTM=?", timeout=5, check=True)).text
            assert "24" in rates and "96" in rates  # V.27ter 2400 and V.29 9600 are the floor every fax has
        else:
            names = COMMANDS[Dialect(CLASS)]
            await channel.command(f"AT+FCLASS={CLASS}", timeout=5, check=True)
            ranges = (await channel.command(f"AT{names.capabilities}=?", timeout=5, check=True)).text
            assert ranges.count(",") >= 7, ranges  # VR,BR,WD,LN,DF,EC,BF,ST ranges (T.32 / SP-2388)
            current = (await channel.command(f"AT{names.session}?", timeout=5, check=True)).text
            params = parse_params(current, hexadecimal=CLASS == "2.0")
            assert params.br >= 1  # at least 4800 bit/s
    finally:
        await channel.close()


async def test_driver_sets_the_modem_up(modem: FaxModem) -> None:
    # FaxModem.open ran the class's setup (+FLID/+FLI, +FDCC/+FCC, +FBOR/+FBO ...): the modem took it.
    assert modem.channel is not None and not modem.channel.closed
    assert (await modem.channel.command("AT", timeout=5)).ok


@pytest.mark.skipif(not os.environ.get("APPLIANCE_HW_FAX_SEND_TO"), reason="set APPLIANCE_HW_FAX_SEND_TO to send")
async def test_send_two_pages(modem: FaxModem) -> None:
    number = os.environ["APPLIANCE_HW_FAX_SEND_TO"]
    report = await modem.send(number, [sample_page(0), sample_page(1)])
    assert report.ok, report.reason
    assert [p.status.good for p in report.pages] == [True, True]


@pytest.mark.skipif(os.environ.get("APPLIANCE_HW_FAX_RECEIVE") != "1", reason="set APPLIANCE_HW_FAX_RECEIVE=1")
async def test_receive_a_fax(modem: FaxModem) -> None:
    kept: list[int] = []

    async def keeper(index: int, page: ReceivedPage, remote_id: str) -> None:
        await asyncio.sleep(0.2)  # a slow disk: the modem must hold the page's MCF until we return
        kept.append(index)

    fax = await modem.receive(timeout=300, keeper=keeper)
    assert fax.received, fax.reason
    assert len(kept) == sum(r.status.good for r in fax.received)  # every confirmed page was kept first
    assert all(status in (PageStatus.MCF, PageStatus.RTP) for status in fax.per_page_status)
    assert all(page.width in (1728, 2048, 2432) for page in fax.pages)
