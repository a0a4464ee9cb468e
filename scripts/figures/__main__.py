"""`python -m scripts.figures [OUT_DIR] [--no-check]`: draw every diagram (see :mod:`scripts.figures`)."""

import sys

from scripts.figures.build import main

if __name__ == "__main__":
    sys.exit(main())
