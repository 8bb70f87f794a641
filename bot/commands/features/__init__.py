"""One module per feature, each with its `router` of commands and buttons. A new command goes
in its feature's module (and its strings in the locale files); a new feature module is added to
bot/commands/dispatcher.py's ROUTERS. Features never import each other (tests/test_layout.py)."""
