"""The bot's languages: complete catalogues, the right plural forms, the user's language picked
and kept, and a Russian user answered in Russian through the real Telegram stack."""

from __future__ import annotations

import ast
import functools
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.conversation import Chat, Conversation, Sender
from bot.files import pictures
from bot.files.charts import NoRatings
from bot.ui import callbacks, i18n
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from bot.ui.i18n import ngettext
from bot.ui.replies import outcome_from_json, outcome_to_json
from devtools.app import buttons, messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import ratings, users

ROOT = Path(__file__).resolve().parent.parent
OTHER_LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
IVAN = Sender(2001, "Иван Петров", "ru")
PRIVATE = Chat(IVAN.user_id)


@functools.cache
def code_messages() -> dict[str, tuple[str, ...]]:
    """Every msgid in the code, extracted the way `pybabel extract -F babel.cfg` does:
    {msgid: (msgid, msgid_plural)}."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms
    return found


def catalogue(language: str):
    with i18n.catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language)


def fields(text: str) -> set[str]:
    """The named `{placeholders}` of a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_code_has_messages_and_extraction_finds_them() -> None:
    found = code_messages()
    assert "Which one do you mean?" in found  # a plain _()
    assert "That button has expired. Try the command again." in found  # an N_() constant
    assert found["Your taste, from your {count} rating."] == (
        "Your taste, from your {count} rating.",
        "Your taste, from your {count} ratings.",
    )  # an ngettext
    assert len(found) > 150


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_message_of_the_code_is_in_the_catalogue_and_nothing_else(language) -> None:
    found = code_messages()
    listed = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue(language) if m.id}
    missing = sorted(set(found) - set(listed))
    stale = sorted(set(listed) - set(found))
    where = "README, Languages and translations"
    assert not missing, f"{language}: not in the catalogue ({where}): {missing}"
    assert not stale, f"{language}: no longer in the code: {stale}"
    for msgid, forms in found.items():
        entry = listed[msgid]
        assert (tuple(entry.id) if len(forms) > 1 else entry.id) == (
            forms if len(forms) > 1 else forms[0]
        ), f"{language}: {msgid!r} is plural in one and not the other"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_no_message_is_defined_twice(language) -> None:
    # Branches append their messages at the end of the file: a message two of them added is
    # defined twice, which babel reads silently (the last one wins) and msgfmt refuses.
    text = i18n.catalogue_path(language).read_text(encoding="utf-8")
    ids = re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert twice == []


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language) -> None:
    entries = [m for m in catalogue(language) if m.id]
    assert entries
    for entry in entries:
        ids = (entry.id,) if isinstance(entry.id, str) else tuple(entry.id)
        translations = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
        assert not entry.fuzzy, f"{language}: {ids[0]!r} is marked fuzzy"
        assert all(t.strip() for t in translations), f"{language}: {ids[0]!r} is untranslated"
        wanted = set().union(*(fields(i) for i in ids))
        if len(ids) == 1:
            assert fields(translations[0]) == wanted, f"{language}: {ids[0]!r}"
        else:
            # One plural form may leave the count out ("Tu mejor recomendación" for 1), but
            # none names a placeholder the code does not fill, and all together name them all.
            for form in translations:
                assert fields(form) <= wanted, f"{language}: {ids[0]!r}: {form!r}"
            assert set().union(*(fields(f) for f in translations)) == wanted, ids[0]


def test_a_placeholder_typo_is_caught() -> None:
    """The check above, on a made-up broken entry: a renamed placeholder fails."""
    assert fields("{title}: {rating}/10 ✓") != fields("{titulo}: {rating}/10 ✓")
    assert fields("{{literal}} {n}") == {"n"}


@pytest.mark.parametrize(
    ("count", "form"),
    [(1, "оценка"), (2, "оценки"), (4, "оценки"), (5, "оценок"), (11, "оценок"), (21, "оценка")],
)
def test_russian_counts_take_their_plural_form(count, form) -> None:
    with i18n.speaking("ru"):
        text = ngettext(
            "I don't know {title} well enough yet to find movies like it ({count} rating). "
            "Try a better-known one.",
            "I don't know {title} well enough yet to find movies like it ({count} ratings). "
            "Try a better-known one.",
            count,
        ).format(title="Frozen (2010)", count=count)
    assert f"({count} {form})" in text


@pytest.mark.parametrize(
    ("code", "language"),
    [("ru", "ru"), ("es-419", "es"), ("es_ES", "es"), ("EN-gb", "en"), ("de", "en"), (None, "en")],
)
def test_telegram_language_codes_pick_a_language(code, language) -> None:
    assert i18n.choose(code) == language


def test_numbers_and_dates_are_written_the_language_s_way() -> None:
    from datetime import date

    day = date(2026, 12, 16)
    with i18n.speaking("en"):
        assert (i18n.decimal(8.46), i18n.percent(0.42), i18n.long_date(day)) == (
            "8.5",
            "42%",
            "16 December 2026",
        )
    with i18n.speaking("es"):
        assert (i18n.decimal(8.46), i18n.long_date(day)) == ("8,5", "16 de diciembre de 2026")
        assert i18n.number(12345) == "12.345"
    with i18n.speaking("ru"):
        assert (i18n.decimal(8.46), i18n.number(12345)) == ("8,5", "12\xa0345")
        assert i18n.long_date(day).startswith("16 декабря 2026")


@pytest.fixture
def conversation(service) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


def test_a_russian_user_is_answered_in_russian(conversation: Conversation) -> None:
    text = conversation.on_text(IVAN, PRIVATE, "/rate Фроузен 8").replies[0].text
    assert "Я не нашёл фильм «Фроузен»" in text
    outcome = conversation.on_text(IVAN, PRIVATE, "/forget")
    assert outcome.replies[0].text.startswith("Оценок у тебя нет, но это удалит всё остальное")
    assert [b.label for row in outcome.replies[0].buttons for b in row] == [
        "Да, удалить всё",
        "Нет, оставить",
    ]


def test_forget_counts_ratings_in_russian(conversation: Conversation, catalog_db) -> None:
    for title in ("Ted", "Frozen", "Toy Story", "Up", "Heat"):
        conversation.on_text(IVAN, PRIVATE, f"/rate {title} 7")
        count = ratings.count_user_ratings(catalog_db, IVAN.user_id)
        ask = conversation.on_text(IVAN, PRIVATE, "/forget").replies[0].text
        form = {1: "твою 1 оценку", 2: "твои 2 оценки", 3: "твои 3 оценки", 4: "твои 4 оценки"}.get(
            count
        )
        assert ask.startswith(f"Это удалит {form or f'твои {count} оценок'} ")


def test_language_command_overrides_telegram_s_and_auto_goes_back(
    conversation: Conversation, catalog_db: Database
) -> None:
    ann = Sender(2002, "Ann", "en")
    chat = Chat(ann.user_id)
    question = conversation.on_text(ann, chat, "/language")
    labels = [b.label for row in question.replies[0].buttons for b in row]
    assert labels == ["As my Telegram is set", "English", "Español", "Русский"]
    tap = conversation.on_button(ann, chat, callbacks.encode(Verb.LANGUAGE, 2))
    assert tap.edit.text == "¡Hecho! A partir de ahora te hablo en español."
    assert users.chosen_language(catalog_db, ann.user_id) == "es"
    assert conversation.on_text(ann, chat, "/cancel").replies[0].text.startswith("No había")
    assert conversation.on_text(ann, chat, "/language ru").replies[0].text == (
        "Хорошо, теперь я говорю с тобой по-русски."
    )
    assert conversation.on_text(ann, chat, "/language auto").replies[0].text == (
        "Okay, I'll speak English with you."
    )
    assert users.chosen_language(catalog_db, ann.user_id) is None


@pytest.mark.parametrize("args", ["klingon", "de", "ru es", "🇷🇺"])
def test_an_unknown_language_is_refused_and_nothing_changes(
    conversation: Conversation, catalog_db: Database, args: str
) -> None:
    before = users.chosen_language(catalog_db, IVAN.user_id)
    text = conversation.on_text(IVAN, PRIVATE, f"/language {args}").replies[0].text
    assert text.startswith("Я говорю на этих языках: English (en), Español (es), Русский (ru).")
    assert users.chosen_language(catalog_db, IVAN.user_id) == before


def test_a_stale_language_button_changes_nothing(conversation, catalog_db) -> None:
    conversation.on_text(IVAN, PRIVATE, "/help")
    tap = conversation.on_button(IVAN, PRIVATE, callbacks.encode(Verb.LANGUAGE, 9))
    assert tap.toast == "Эта кнопка устарела. Повтори команду."
    assert users.chosen_language(catalog_db, IVAN.user_id) is None


def test_a_picture_is_drawn_in_the_language_it_was_asked_in(conversation, service) -> None:
    conversation.on_text(IVAN, PRIVATE, "/rate Ted 8")
    reply = conversation.on_text(IVAN, PRIVATE, "/taste").replies[0]
    assert reply.text == "Твой вкус по 1 оценке."
    stored = outcome_from_json(outcome_to_json(conversation.on_text(IVAN, PRIVATE, "/taste")))
    assert stored.replies[0].picture.language == reply.picture.language == "ru"
    assert pictures.draw(reply.picture, pictures.gather(service, reply.picture))[:4] == b"\x89PNG"
    instead = pictures.instead_of_picture(NoRatings("none"), reply.text, "ru")
    assert instead.endswith("и тогда я смогу это нарисовать.")


def test_a_russian_user_gets_russian_through_telegram_and_menus_per_language(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        calls = await fake_telegram.wait_for_calls("setMyCommands", 2 * len(i18n.LANGUAGES))
        menus = {
            (c.params["scope"]["type"], c.params.get("language_code")): [
                cmd["command"] for cmd in c.params["commands"]
            ]
            for c in calls
        }
        assert set(menus) == {
            (scope, code)
            for scope in ("all_private_chats", "all_group_chats")
            for code in (None, *OTHER_LANGUAGES)
        }
        ru = next(
            c.params["commands"]
            for c in calls
            if c.params.get("language_code") == "ru"
            and c.params["scope"]["type"] == "all_private_chats"
        )
        assert {"command": "rate", "description": "Оценить фильм: /rate Ted 8"} in ru
        assert menus[("all_private_chats", "ru")] == menus[("all_private_chats", None)]

        fake_telegram.set_language(IVAN.user_id, "ru")
        fake_telegram.send_text(IVAN.user_id, "/start", first_name="Иван")
        intro, card = await messages(fake_telegram, IVAN.user_id, 2)
        assert intro["text"].startswith("Привет, Иван! Я советую фильмы по твоим оценкам.")
        assert card["text"].startswith("1/10: ") and card["text"].endswith("Как оценишь?")
        labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
        assert labels[-1] == "Не смотрел(а)" and buttons(card)[-1].startswith("s:")
        # /help's "<название>" reaches Telegram escaped (the server parses HTML strictly).
        fake_telegram.send_text(IVAN.user_id, "/help", first_name="Иван")
        help_message = (await messages(fake_telegram, IVAN.user_id, 3))[2]
        assert "/rate <название> <1-10> - оценить фильм" in help_message["text"]

    run_bot(fake_telegram, service, settings, scenario)


def test_an_import_is_previewed_and_applied_in_russian(
    conversation: Conversation, catalog_db: Database
) -> None:
    from devtools.history_files import catalog_sample, imdb_csv, imdb_row

    sample = catalog_sample(catalog_db, 5)
    rows = [imdb_row(m.imdb_id, 7, m.title, m.year) for m in sample]
    data = imdb_csv([*rows, ["garbage"]])
    conversation.on_text(IVAN, PRIVATE, "/help")  # Ivan is known: his Telegram is in Russian
    preview = conversation.on_document(IVAN, PRIVATE, "ratings.csv", data)
    text = "\n".join(reply.text for reply in preview.replies)
    assert text.startswith("Прочитал 6 строк (оценки IMDb):")
    assert "✓ 5 новых оценок для импорта" in text
    assert "! 1 нечитаемая строка (строка 7)" in text
    tap = next(b for r in preview.replies for row in r.buttons for b in row if b.data[-2:] == ":1")
    assert tap.label == "Импортировать"
    done = conversation.on_button(IVAN, PRIVATE, tap.data)
    assert done.toast == "Импортировано"
    assert done.edit.text.startswith("Импортировано: 5 новых оценок.")
    assert ratings.count_user_ratings(catalog_db, IVAN.user_id) == 5
    empty = conversation.on_document(IVAN, PRIVATE, "ratings.csv", b"")
    assert empty.replies[0].text == "Файл пустой. Ничего не импортировано."


# Calls whose text argument a user sees, and the keyword arguments that are shown.
SHOWN_CALLS = {"say", "Reply", "Button", "BadFile"}
SHOWN_KEYWORDS = {"toast", "menu", "help", "elsewhere", "edit"}
TRANSLATORS = {"_", "ngettext", "N_"}
# Names that read the same in every language.
BRANDS = {"IMDb ↗", "Letterboxd ↗"}


def english_literals(node: ast.AST) -> list[str]:
    """The string literals with words in an expression, leaving out what a translator call
    (or any other call: its result is not a literal) holds."""
    if isinstance(node, ast.Call | ast.Subscript):  # a call's result, or data["text"]
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if re.search(r"[A-Za-z]{2,}", node.value) else []
    if isinstance(node, ast.JoinedStr):
        literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [literal] if re.search(r"[A-Za-z]{2,}", literal) else []
    found = []
    for child in ast.iter_child_nodes(node):
        found += english_literals(child)
    return found


def untranslated_in(path: Path) -> list[str]:
    """Literals shown to users without going through bot/ui/i18n.py in one module: the text of
    Outcome.say, Reply, Button, BadFile and of the shown keywords, and module constants of
    several words."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in SHOWN_CALLS and node.args:
                found += english_literals(node.args[0])
            found += [
                text
                for keyword in node.keywords
                if keyword.arg in SHOWN_KEYWORDS
                for text in english_literals(keyword.value)
            ]
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                value = node.value
                text = value.value if isinstance(value, ast.Constant) else None
                if isinstance(text, str) and len(text.split()) >= 3:
                    found.append(text)
    return [f"{path.name}: {text!r}" for text in found if text not in BRANDS]


def test_no_user_visible_string_skips_the_translation() -> None:
    """A reply, button, toast, menu or help text written as a bare literal would reach a
    Spanish or Russian user in English: it must be wrapped in _() (or N_/ngettext)."""
    found = [text for path in sorted((ROOT / "bot").glob("*.py")) for text in untranslated_in(path)]
    assert not found, "wrap these in bot.i18n's _() and translate them:\n" + "\n".join(found)


def test_the_untranslated_string_check_finds_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'Outcome.say("Hello there")\nButton(f"Rate {i}", d)\nX = "three plain words"\n'
    )
    assert len(untranslated_in(sample)) == 3
    sample.write_text('Outcome.say(_("Hello there"))\nButton(_("Rate {i}").format(i=i), d)\n')
    assert untranslated_in(sample) == []


def test_genres_are_shown_and_typed_in_the_user_s_language(
    conversation: Conversation, service
) -> None:
    conversation.on_text(IVAN, PRIVATE, "/rate Ted 8")
    reply = to_plain(conversation.on_text(IVAN, PRIVATE, "/recommend 3 комедия").replies[0].text)
    assert reply.startswith("Твоя подборка — 3 фильма жанра «Комедия»:")
    for pick in service.recommend(IVAN.user_id, 3, "Comedy"):
        assert pick.movie.label in reply
    assert "Comedy" not in reply
    spanish = Sender(2003, "Ana", "es")
    conversation.on_text(spanish, Chat(2003), "/rate Ted 8")
    text = conversation.on_text(spanish, Chat(2003), "/recommend 2 ciencia-ficción").replies[0]
    assert to_plain(text.text).startswith("Tus 2 mejores películas del género Ciencia ficción:")
    # English names work in every language; an unknown one lists the typed names.
    scifi = conversation.on_text(IVAN, PRIVATE, "/recommend 2 sci-fi").replies[0].text
    assert to_plain(scifi).startswith("Твоя подборка — 2 фильма жанра «Фантастика»:")
    unknown = conversation.on_text(spanish, Chat(2003), "/recommend 2 zzz").replies[0].text
    assert "Ciencia-ficción" in unknown and "Sci-Fi" not in unknown


def test_settings_switch_the_language_and_redraw_in_it(
    conversation: Conversation, catalog_db: Database
) -> None:
    ann = Sender(2004, "Ann", "en")
    card = conversation.on_text(ann, Chat(2004), "/settings").replies[0]
    assert "Language: English" in to_plain(card.text)
    russian = next(b for row in card.buttons for b in row if b.label == "Русский")
    tap = conversation.on_button(ann, Chat(2004), russian.data)
    assert tap.toast == "Хорошо, теперь я говорю с тобой по-русски."
    text = to_plain(tap.edit.text)
    assert text.startswith("Твои настройки") and "Язык: Русский" in text
    labels = [b.label for row in tap.edit.buttons for b in row]
    assert "Русский ✓" in labels and "Комедия" in labels and "Как в моём Telegram" in labels
    assert users.chosen_language(catalog_db, ann.user_id) == "ru"
