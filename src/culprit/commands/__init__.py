"""Sub-commands of the ``culprit`` CLI: one module each, found automatically.

A module here defines ``add_parser(subparsers) -> argparse.ArgumentParser`` and
``run(args) -> int``. Keep them thin: parse arguments, call the pipeline, render.
"""
