"""The bundle's entry point: the same CLI as `python -m appliance`."""
import sys

from appliance.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
