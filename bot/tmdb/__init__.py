"""TMDB with the operator's own key: the client (client.py), what the bot keeps of a film
(facts.py), and the cached lookups the replies use (films.py)."""
