"""The schema as an ordered list of migrations.

Once a migration has been released it is never edited: a change to the schema is a new
migration at the end of the list, so every existing database can be brought forward.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("moviebot")


@migrations(name="0001_catalog_users_ratings")
def _catalog_users_ratings(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE movies (
            id INTEGER PRIMARY KEY,          -- MovieLens movieId
            title TEXT NOT NULL,             -- display title, article in front: "The Matrix"
            year INTEGER,
            genres TEXT NOT NULL DEFAULT '', -- "Action|Sci-Fi"; '' when none are listed
            aliases TEXT NOT NULL DEFAULT '', -- alternative titles, one per line
            imdb_id TEXT,                    -- "tt0133093"
            tmdb_id INTEGER,
            source_title TEXT NOT NULL       -- the title exactly as the dataset wrote it
        )
        """
    )
    db.execute(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,          -- Telegram user id (> 0); imported users are < 0
            display_name TEXT,
            language TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE ratings (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            movie_id INTEGER NOT NULL REFERENCES movies(id),
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (user_id, movie_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX ratings_by_movie ON ratings(movie_id)")
    db.execute(
        """
        CREATE TABLE chat_members (
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            joined_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE model_fits (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
            n_ratings INTEGER NOT NULL,
            n_users INTEGER,
            n_movies INTEGER,
            scores TEXT,                     -- JSON: {"rmse": ..., "fit_seconds": ...}
            model_path TEXT,
            error TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE datasets (
            id INTEGER PRIMARY KEY,          -- namespaces the dataset's user ids
            name TEXT NOT NULL UNIQUE,       -- "ml-latest-small"
            imported_at TEXT NOT NULL,
            n_movies INTEGER,
            n_ratings INTEGER
        )
        """
    )


@migrations(name="0002_conversation_state")
def _conversation_state(db: Database) -> None:
    # What the bot is waiting for from a user (a score for a movie, a choice between titles,
    # onboarding progress) survives a restart because it lives here, not in memory.
    db.execute(
        """
        CREATE TABLE user_state (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            state TEXT NOT NULL,             -- JSON
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE hidden_movies (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            movie_id INTEGER NOT NULL REFERENCES movies(id),
            hidden_at TEXT NOT NULL,
            PRIMARY KEY (user_id, movie_id)
        ) WITHOUT ROWID
        """
    )


@migrations(name="0003_update_journal")
def _update_journal(db: Database) -> None:
    # Every Telegram update is written here before Telegram is told it arrived, so a crash
    # loses nothing; the answer is stored with the update's effects, in one transaction, and
    # sent from here, so a retry re-sends the same answer instead of computing a new one.
    db.execute(
        """
        CREATE TABLE updates (
            update_id INTEGER PRIMARY KEY,
            payload TEXT NOT NULL,           -- the Update as Telegram sent it (JSON)
            received_at TEXT NOT NULL,
            outcome TEXT,                    -- the answer, once computed (JSON)
            delivered INTEGER NOT NULL DEFAULT 0,  -- how many steps of the answer went out
            attempts INTEGER NOT NULL DEFAULT 0,   -- failed deliveries
            last_error TEXT,
            done_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX updates_unfinished ON updates(update_id) WHERE done_at IS NULL")


@migrations(name="0004_forgetting")
def _forgetting(db: Database) -> None:
    # A done update keeps only what de-duplication needs (its id, a digest of what Telegram
    # sent, the time): its payload and answer are cleared when it is marked done.
    db.execute("ALTER TABLE updates ADD COLUMN digest TEXT")
    db.execute("CREATE INDEX updates_done ON updates(done_at) WHERE done_at IS NOT NULL")
    db.execute("UPDATE updates SET payload = '{}', outcome = NULL WHERE done_at IS NOT NULL")
    # Ratings deleted by /forget, counted without saying whose: a refit picks up deletions.
    db.execute(
        """
        CREATE TABLE rating_deletions (
            id INTEGER PRIMARY KEY,
            deleted_at TEXT NOT NULL,
            n_ratings INTEGER NOT NULL
        )
        """
    )
    # Who used /forget, as a one-way digest of the id, kept while the backups still hold their
    # data: a score button from before the /forget is then answered "deleted", not saved.
    db.execute(
        """
        CREATE TABLE forgotten_users (
            digest TEXT PRIMARY KEY,
            forgotten_at TEXT NOT NULL
        )
        """
    )


@migrations(name="0008_watchlist")
def _watchlist(db: Database) -> None:
    # Saved for later ("Save"), and seen without a score ("Seen it": kept out of the picks,
    # unlike "Not interested", which is hidden_movies). Both go with the user on /forget.
    db.execute(
        """
        CREATE TABLE watchlist (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            movie_id INTEGER NOT NULL REFERENCES movies(id),
            added_at TEXT NOT NULL,
            PRIMARY KEY (user_id, movie_id)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE seen_movies (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            movie_id INTEGER NOT NULL REFERENCES movies(id),
            seen_at TEXT NOT NULL,
            PRIMARY KEY (user_id, movie_id)
        ) WITHOUT ROWID
        """
    )
    # An import previewed but not applied yet (one per user): the rows matched from their file,
    # waiting for the "Import" tap; removed when applied, replaced, expired or on /forget.
    db.execute(
        """
        CREATE TABLE pending_imports (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            plan TEXT NOT NULL,              -- JSON: what the tap would store
            created_at TEXT NOT NULL
        )
        """
    )


@migrations(name="0009_movie_nights_and_settings")
def _movie_nights_and_settings(db: Database) -> None:
    # A group's invite for the "rate privately" deep link: a random token stands for the chat
    # in t.me/<bot>?start=pool_<token>, so a link cannot be forged for another group.
    db.execute(
        """
        CREATE TABLE group_invites (
            chat_id INTEGER PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )
        """
    )
    # A /movienight vote: an anonymous Telegram poll of the pool's top picks. Who voted for
    # what is never seen (the poll is anonymous); only who opened it, to let them end it.
    db.execute(
        """
        CREATE TABLE movie_nights (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            thread_id INTEGER,               -- the forum topic it was opened in
            opened_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            movie_ids TEXT NOT NULL,         -- JSON list, in the poll's option order
            poll_id TEXT UNIQUE,             -- Telegram's, once the poll is sent
            message_id INTEGER,
            opened_at TEXT NOT NULL,
            closed_at TEXT,
            winner_id INTEGER                -- the movie announced
        )
        """
    )
    db.execute("CREATE INDEX movie_nights_open ON movie_nights(chat_id) WHERE closed_at IS NULL")
    # /settings: genres never to recommend ("Horror|Musical") and how adventurous the picks
    # are (-1 popular, 0 balanced, 1 hidden gems: the ranking stage's novelty knob).
    db.execute(
        """
        CREATE TABLE user_settings (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            excluded_genres TEXT NOT NULL DEFAULT '',
            adventurous INTEGER NOT NULL DEFAULT 0 CHECK (adventurous BETWEEN -1 AND 1),
            updated_at TEXT NOT NULL
        )
        """
    )


@migrations(name="0010_language_choice")
def _language_choice(db: Database) -> None:
    # The language a user picked with /language; `language` stays what Telegram reports.
    db.execute("ALTER TABLE users ADD COLUMN chosen_language TEXT")


@migrations(name="0011_catalog_facts")
def _catalog_facts(db: Database) -> None:
    # What IMDb's datasets say about a film (storage/imdb_catalog.py): its rating and votes
    # there (the popularity of films nobody here has rated yet), runtime, original title and
    # directors (IMDb name ids, "nm0634240|nm0000005"): the content a film with no ratings here
    # is recommended from. `added_at` is when the film entered this catalog (NULL: bundled).
    db.execute("ALTER TABLE movies ADD COLUMN imdb_rating REAL")
    db.execute("ALTER TABLE movies ADD COLUMN imdb_votes INTEGER")
    db.execute("ALTER TABLE movies ADD COLUMN runtime INTEGER")
    db.execute("ALTER TABLE movies ADD COLUMN original_title TEXT")
    db.execute("ALTER TABLE movies ADD COLUMN directors TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE movies ADD COLUMN added_at TEXT")
    db.execute("CREATE INDEX movies_by_imdb ON movies(imdb_id) WHERE imdb_id IS NOT NULL")


@migrations(name="0012_catalog_updates")
def _catalog_updates(db: Database) -> None:
    # Each `moviebot catalog update` (storage/imdb_catalog.py): where from, how it ended, what
    # the catalog held after it, and the files' validators (ETag / Last-Modified per file, JSON)
    # that the next download sends back so that unchanged files are not fetched again.
    db.execute(
        """
        CREATE TABLE catalog_updates (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,            -- base URL or folder
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'unchanged', 'failed')),
            films INTEGER,                   -- films from the files in the catalog after it
            added INTEGER,                   -- new films it added
            names INTEGER,                   -- alternative titles it wrote
            newest_year INTEGER,
            validators TEXT,                 -- JSON: {"title.basics.tsv.gz": {"etag": ...}}
            error TEXT
        )
        """
    )


@migrations(name="0014_tmdb_cache")
def _tmdb_cache(db: Database) -> None:
    # What TMDB says about a film (bot/tmdb/facts.py as JSON: poster, runtime, overviews,
    # where to watch by country), fetched with the operator's key and kept for a while
    # (storage/tmdb_cache.py). `facts` NULL: TMDB has no such film, so it is not asked again
    # until the row is stale. Rows of films TMDB lists as changed are dropped.
    db.execute(
        """
        CREATE TABLE tmdb_cache (
            movie_id INTEGER PRIMARY KEY REFERENCES movies(id) ON DELETE CASCADE,
            tmdb_id INTEGER,
            facts TEXT,
            fetched_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX tmdb_cache_by_tmdb ON tmdb_cache(tmdb_id)")
    # Where each cached film can be watched: one row per country, kind (flatrate = stream,
    # rent, buy) and service (TMDB's provider id); what `/recommend streaming` filters by.
    db.execute(
        """
        CREATE TABLE tmdb_offers (
            country TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('flatrate', 'rent', 'buy')),
            provider_id INTEGER NOT NULL,
            movie_id INTEGER NOT NULL REFERENCES tmdb_cache(movie_id) ON DELETE CASCADE,
            PRIMARY KEY (country, kind, provider_id, movie_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX tmdb_offers_by_movie ON tmdb_offers(movie_id)")
    # The streaming services a person has (/settings), by TMDB's provider id.
    db.execute(
        """
        CREATE TABLE user_services (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            provider_id INTEGER NOT NULL,
            PRIMARY KEY (user_id, provider_id)
        ) WITHOUT ROWID
        """
    )
    # The country whose services "where to watch" lists (ISO 3166-1, "ES"), picked in
    # /settings; NULL: guessed from the Telegram language ("es-MX" -> MX, "es" -> ES).
    db.execute("ALTER TABLE users ADD COLUMN country TEXT")


@migrations(name="0015_alerts")
def _alerts(db: Database) -> None:
    # Who asked for alerts (storage/alerts.py), each kind opted into: the weekly "new for you"
    # digest, and watchlisted films that start streaming on their services. Sent on `weekday`
    # (0 Monday) at `hour` in `time_zone` (IANA), guessed from their country when they opt in.
    # `digest_since`: films added to the catalog after it are the next digest's.
    db.execute(
        """
        CREATE TABLE alert_subscriptions (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            digest INTEGER NOT NULL DEFAULT 0,
            streaming INTEGER NOT NULL DEFAULT 0,
            weekday INTEGER NOT NULL DEFAULT 4 CHECK (weekday BETWEEN 0 AND 6),
            hour INTEGER NOT NULL DEFAULT 18 CHECK (hour BETWEEN 0 AND 23),
            time_zone TEXT NOT NULL DEFAULT 'UTC',
            digest_since TEXT,
            updated_at TEXT NOT NULL
        )
        """
    )
    # The outbox: an alert is written here (its answer as JSON) before it is sent, and marked
    # when sent; one per (user, kind, period), so a job run twice or a restart sends it once.
    # state: pending -> sending (the request is on its way) -> sent; a row left `sending` by a
    # kill is `uncertain` and never sent again; `dropped`: the user blocked the bot or stopped.
    db.execute(
        """
        CREATE TABLE alert_outbox (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('digest', 'streaming')),
            period TEXT NOT NULL,            -- "2026-W49"; for streaming, the film's id
            outcome TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'uncertain', 'dropped')),
            not_before TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            error TEXT,
            UNIQUE (user_id, kind, period)
        )
        """
    )
    db.execute("CREATE INDEX alert_outbox_pending ON alert_outbox(id) WHERE state = 'pending'")


@migrations(name="0016_alert_watches")
def _alert_watches(db: Database) -> None:
    # The films a person waits for (storage/alert_watches.py): those they tapped "Tell me when"
    # on (`asked`) beside their watchlist, minus those they stopped watching (`muted`); and
    # what the streaming alert last saw of each for them: streamable on their services in
    # their country (`streams`), out there (`released`); NULL: not seen yet; `seen_for`: the
    # country and services it was seen for ("ES:8,337"). An alert fires when one goes from 0
    # to 1 for the same `seen_for` (a person who moves or names a service is not news).
    db.execute(
        """
        CREATE TABLE alert_watches (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            movie_id INTEGER NOT NULL REFERENCES movies(id) ON DELETE CASCADE,
            asked INTEGER NOT NULL DEFAULT 0,
            muted INTEGER NOT NULL DEFAULT 0,
            streams INTEGER,
            released INTEGER,
            seen_for TEXT,
            created_at TEXT NOT NULL,
            seen_at TEXT,
            PRIMARY KEY (user_id, movie_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX alert_watches_by_movie ON alert_watches(movie_id)")
    # The last day TMDB's change list was read up to (storage/tmdb_cache.py), so a restart
    # reads on from there.
    db.execute(
        """
        CREATE TABLE tmdb_changes (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            checked_until TEXT NOT NULL
        )
        """
    )


@migrations(name="0017_alert_quiet_hours")
def _alert_quiet_hours(db: Database) -> None:
    # Hours (local, in the subscription's time_zone) in which no alert goes: an alert due in
    # them waits until `quiet_until` (storage/alerts.py). Both NULL: no quiet hours.
    for column in ("quiet_from", "quiet_until"):
        db.execute(
            f"ALTER TABLE alert_subscriptions ADD COLUMN {column} INTEGER "
            f"CHECK ({column} BETWEEN 0 AND 23)"
        )


def migration_names() -> list[str]:
    """The names of every migration this code knows, in order."""
    return [migration.name for migration in migrations._migrations]
