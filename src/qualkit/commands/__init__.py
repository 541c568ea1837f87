"""CLI commands, one module each; discovered by :mod:`qualkit.cli`."""
