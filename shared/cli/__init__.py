"""The `fluxos` command line: one module per command (or command group), composed in `main`."""
