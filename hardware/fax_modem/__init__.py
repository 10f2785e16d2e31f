"""Fax modem support: T.4 page coding (t4), TIFF Class F files (tiff), page conversion (pages).

The T.30 engine and the Class 1/2 drivers live in their own modules of this package; the codec
modules here are pure (bytes in, objects out) and import nothing from the database or the web.
"""
