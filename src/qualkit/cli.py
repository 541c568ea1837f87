"""The ``qualkit`` command line: a thin layer over the library.

Each command lives in ``qualkit/commands/<name>.py`` with ``add_parser(subparsers)`` that sets
``func(args) -> int``.  Errors about the researcher's data (:class:`QualkitError`) are printed
without a traceback and exit with status 1; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

from . import __version__, commands
from .errors import IngestErrors, QualkitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qualkit", description="qualkit: qualitative research workbench")
    parser.add_argument("--version", action="version", version=f"qualkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"{commands.__name__}.{mod}").add_parser(sub)
    return parser


def project_arg(p: argparse.ArgumentParser) -> None:
    """Add ``--project DIR`` (default: the current directory)."""
    p.add_argument("--project", default=".", metavar="DIR", help="project folder (default: current directory)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # the library's warnings (e.g. a transcript without a metadata row) reach the terminal once, as "warning: …"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LowerLevelFormatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("qualkit")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    logger.propagate = False
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except IngestErrors as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except QualkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `qualkit status --json | head`: the reader left; exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # a file the library did not expect to be unreadable: say which, without a traceback
        where = e.filename or "a file"
        print(f"error: {where}: {e.strerror or e}\n  → check that it exists, is a file (not a folder) and is "
              "readable and writable by you", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the store is unchanged by the interrupted step", file=sys.stderr)
        return 130
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


class _LowerLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
