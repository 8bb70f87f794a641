"""The `moviebot` commands, grouped by what they look after; moviebot/cli.py parses the
arguments and calls one of them."""
