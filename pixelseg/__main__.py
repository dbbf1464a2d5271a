"""``python -m pixelseg``: the ``pixelseg`` command line."""

from pixelseg.cli import main

if __name__ == "__main__":
    main()
