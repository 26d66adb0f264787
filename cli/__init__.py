"""The ``toolmaker`` command line: the top of the house, it imports the graphs and evaluation."""

from cli.app import build_parser, main

__all__ = ["build_parser", "main"]
