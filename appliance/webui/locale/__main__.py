"""`python -m appliance.webui.locale [LANG]`: the messages of the translated screens the catalogue lacks."""
from __future__ import annotations

import sys

from appliance.webui.locale import LANGUAGES, DEFAULT, missing


def main(argv: list[str]) -> int:
    """Print each missing message of the languages asked for (all but English by default); 1 if any."""
    languages = argv or [code for code in LANGUAGES if code != DEFAULT]
    lacking = 0
    for language in languages:
        for message in missing(language):
            print(f"{language}: {message}")
            lacking += 1
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
