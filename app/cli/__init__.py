"""The command line: `python -m app …` (main.py), the demo and its sample cases."""
