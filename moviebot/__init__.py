"""moviebot: a Telegram bot that learns your taste in movies and recommends what to watch next."""

__version__ = "0.1.0"
