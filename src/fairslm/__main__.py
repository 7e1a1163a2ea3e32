"""``python -m fairslm``: the same as the ``fairslm`` command."""

import sys

from fairslm.cli import main

if __name__ == "__main__":
    sys.exit(main())
