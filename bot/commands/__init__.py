"""The command layer, transport-free: text or a tap in, an Outcome out (bot/ui/replies.py).

conversation.py is the door the Telegram adapter and the console call; dispatcher.py collects
the feature routers (features/, one module per feature, each declaring its commands and buttons
on their handlers with router.py); common.py holds what several features share; state.py what a
person is in the middle of; parsing.py reads commands, scores and years.

Handlers read and write a person's own data (ratings, lists, settings) through storage/, and
ask about the catalog and the model (titles, genres, picks, similar movies) through
bot/service.py's MovieService, never both ways for the same thing.
"""
