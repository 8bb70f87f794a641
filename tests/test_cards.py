"""Movie cards in HTML: escaped names and titles, linked titles, link buttons, one preview; and
the loopback server refusing HTML that Telegram would not parse. (Chat actions:
test_chat_actions.py.)"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from telegram.ext import Application

from bot.commands.conversation import Conversation, Sender
from bot.console import ConsoleChat
from bot.ui.html import esc, link, to_plain
from bot.ui.replies import Button, Outcome, Picture, Reply, outcome_from_json, outcome_to_json
from devtools.app import messages, run_bot
from devtools.fake_telegram.html_entities import HtmlError, parse_html
from devtools.fake_telegram.server import FakeTelegram
from devtools.ptb import TEST_TOKEN

ANN = 601
GUANTANAMO = 59022  # Harold & Kumar Escape from Guantanamo Bay (2008)


def test_esc_and_link_escape_what_telegram_would_parse() -> None:
    assert esc("Tom & Jerry <b>") == "Tom &amp; Jerry &lt;b&gt;"
    assert link('A "quoted" & <odd> title', "https://x.test/?a=1&b=2") == (
        '<a href="https://x.test/?a=1&amp;b=2">A "quoted" &amp; &lt;odd&gt; title</a>'
    )
    assert to_plain("<b>Tom &amp; Jerry</b> &lt;3") == "Tom & Jerry <3"


@pytest.mark.parametrize(
    "text",
    ["a < b", "Tom & Jerry", "<b>bold", "<b><i>x</b></i>", "<blink>x</blink>", "x</b>", "<a>x</a>"],
)
def test_the_parser_refuses_what_telegram_cannot_parse(text: str) -> None:
    with pytest.raises(HtmlError):
        parse_html(text)


def test_the_parser_gives_the_visible_text_and_entities() -> None:
    text, entities = parse_html('<b>Tom &amp; Jérry</b> · <a href="https://x.test/">😀 go</a>')
    assert text == "Tom & Jérry · 😀 go"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 11},
        # UTF-16 offsets, like Telegram: the emoji counts 2.
        {"type": "text_link", "url": "https://x.test/", "offset": 14, "length": 5},
    ]


def _post(server: FakeTelegram, method: str, params: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.base_url}{TEST_TOKEN}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_server_refuses_bad_html_with_telegrams_error(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(ANN)
    status, body = _post(
        fake_telegram, "sendMessage", {"chat_id": ANN, "text": "Tom & Jerry", "parse_mode": "HTML"}
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    status, _ = _post(
        fake_telegram,
        "sendPhoto",
        {"chat_id": ANN, "photo": "AgADx", "caption": "<b>open", "parse_mode": "HTML"},
    )
    assert status == 400
    # Without a parse mode the same text is plain and fine.
    status, body = _post(fake_telegram, "sendMessage", {"chat_id": ANN, "text": "Tom & Jerry"})
    assert status == 200 and body["result"]["text"] == "Tom & Jerry"
    status, body = _post(
        fake_telegram,
        "sendMessage",
        {"chat_id": ANN, "text": "<b>Tom &amp; Jerry</b>", "parse_mode": "HTML"},
    )
    assert body["result"]["text"] == "Tom & Jerry"
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 11}]
    assert len(fake_telegram.violations) == 2
    fake_telegram.violations.clear()  # provoked on purpose


def test_a_malicious_name_and_an_ampersand_title_arrive_intact(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/start", first_name="<b>Bobby</b> & co")
        intro = (await messages(fake_telegram, ANN, 1))[0]
        assert intro["text"].startswith("Hi <b>Bobby</b>! I recommend movies")
        fake_telegram.send_text(ANN, "/cancel")
        await messages(fake_telegram, ANN, 3)
        fake_telegram.send_text(ANN, "/rate Harold & Kumar Escape from Guantanamo Bay 7")
        confirmation = (await messages(fake_telegram, ANN, 4))[3]
        assert confirmation["text"] == "Harold & Kumar Escape from Guantanamo Bay (2008): 7/10 ✓"

    run_bot(fake_telegram, service, settings, scenario)
    sends = fake_telegram.calls_of("sendMessage")
    assert sends and all(c.params.get("parse_mode") == "HTML" for c in sends)


def test_recommend_links_titles_and_previews_the_top_pick(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        await messages(fake_telegram, ANN, 1)
        fake_telegram.send_text(ANN, "/recommend 5")
        card = (await messages(fake_telegram, ANN, 2))[1]
        links = [e for e in card["entities"] if e["type"] == "text_link"]
        assert len(links) == 5
        assert all(e["url"].startswith("https://www.imdb.com/title/tt") for e in links)
        top_url = links[0]["url"]
        first_row = card["reply_markup"]["inline_keyboard"][0]
        assert [b["text"] for b in first_row] == ["IMDb ↗", "Letterboxd ↗", "Where to watch ↗"]
        assert first_row[0]["url"] == top_url
        assert first_row[1]["url"].startswith("https://letterboxd.com/tmdb/")
        assert first_row[2]["url"].startswith("https://www.justwatch.com/")
        sent = fake_telegram.calls_of("sendMessage")[-1].params
        assert sent["link_preview_options"] == {"url": top_url, "prefer_large_media": True}
        # A message without a top pick gets no preview at all.
        assert fake_telegram.calls_of("sendMessage")[0].params["link_preview_options"] == {
            "is_disabled": True
        }

    run_bot(fake_telegram, service, settings, scenario)


def test_link_buttons_and_the_preview_survive_the_journal() -> None:
    reply = Reply(
        "<b>x</b>",
        ((Button("Rate 1", "a:1"), Button("IMDb ↗", url="https://www.imdb.com/title/tt1/")),),
        Picture("taste", 5),
        preview_url="https://www.imdb.com/title/tt1/",
    )
    outcome = Outcome(replies=[reply], edit=Reply("e"), toast="t")
    assert outcome_from_json(outcome_to_json(outcome)) == outcome
    # An answer stored before link buttons existed still loads.
    old = '{"replies": [{"text": "hi", "buttons": [[["1", "r:1:1"]]], "picture": null}], '
    old += '"edit": null, "toast": null}'
    assert outcome_from_json(old).replies[0].buttons == ((Button("1", "r:1:1"),),)


def test_a_button_is_a_callback_or_a_link() -> None:
    with pytest.raises(ValueError):
        Button("both", "r:1:1", url="https://x.test/")
    with pytest.raises(ValueError):
        Button("neither")


def test_the_console_shows_plain_text_and_link_addresses(service, tmp_path) -> None:
    import io

    out = io.StringIO()
    console = ConsoleChat(Conversation(service), Sender(ANN, "Ann"), out, tmp_path)
    console.handle("/rate Harold & Kumar Escape from Guantanamo Bay 7")
    console.handle("/recommend 2")
    text = out.getvalue()
    assert "bot> Harold & Kumar Escape from Guantanamo Bay (2008): 7/10 ✓" in text
    assert "<a href" not in text and "&amp;" not in text
    assert "IMDb ↗ https://www.imdb.com/title/tt" in text
    assert "[1] Rate 1" in text


def test_the_inline_card_is_html_with_link_buttons(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.inline_query(ANN, "harold kumar guantanamo")
        answer = (await fake_telegram.wait_for_calls("answerInlineQuery", 1))[0].params
        card = answer["results"][0]
        content = card["input_message_content"]
        assert content["parse_mode"] == "HTML"
        assert content["message_text"].startswith('<a href="https://www.imdb.com/title/tt')
        assert "Harold &amp; Kumar" in content["message_text"]
        assert content["link_preview_options"]["url"].startswith("https://www.imdb.com/")
        assert card["reply_markup"]["inline_keyboard"][0][0]["text"] == "IMDb ↗"

    run_bot(fake_telegram, service, settings, scenario)
