"""Exceptions of the fax package: one base class, one kind per layer that can fail."""
from __future__ import annotations


class FaxError(Exception):
    """Base of every error raised by hardware.fax_modem."""


class T4Error(FaxError):
    """T.4 data or parameters that cannot be coded or decoded at all (bad lines are not errors)."""


class TiffError(FaxError):
    """A TIFF file that is not a readable TIFF Class F fax, or a page that cannot be stored in one.

    `pages` holds the pages read before the damage, so a truncated fax still shows what arrived.
    """

    def __init__(self, message: str, pages: tuple = ()) -> None:
        super().__init__(message)
        self.pages = pages


class PageConversionError(FaxError):
    """A document (PDF, image) that cannot be turned into fax pages, or pages that cannot be exported."""
