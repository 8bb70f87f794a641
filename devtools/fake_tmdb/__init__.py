"""A loopback TMDB API for tests and benchmarks (server.py) and the films it knows (films.py)."""
