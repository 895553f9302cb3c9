"""``python -m i2i`` runs the command line (what torchrun launches)."""

from i2i.cli import main

if __name__ == "__main__":
    main()
