"""`python -m shared.cli`: the same as the `fluxos` console script (used by `up --detach`)."""

from __future__ import annotations

from shared.cli.main import main

if __name__ == "__main__":
    main()
