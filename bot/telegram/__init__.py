"""The Telegram adapter: PTB wiring (app.py), the exactly-once life of an update (delivery.py),
PTB's bot, queue and update processor (ptb_classes.py), the webhook server, the HTTP transport,
metrics, token redaction and group membership updates."""
