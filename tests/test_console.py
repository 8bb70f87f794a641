"""`moviebot chat`: the console front end, scripted through piped input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def chat(
    db: Path, model: Path, lines: list[str], pictures: Path, language: str | None = None
) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "moviebot", "chat", "--db", str(db), "--model", str(model)]
        + ["--name", "Ann", "--pictures", str(pictures)]
        + (["--language", language] if language else []),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_scripted_console_session(
    catalog_db_path: Path, catalog_model_path: Path, tmp_path: Path
) -> None:
    out = chat(
        catalog_db_path,
        catalog_model_path,
        ["/rate Ted 8", "/rate harold kumar", "#2", "#9", "/rate Ted 11", "/taste", "#99"],
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "moviebot console chat. Type /help for the commands, /quit to leave."
    assert "bot> Ted (2012): 8/10 ✓" in lines
    assert "bot> Which one do you mean?" in lines
    assert "     [1] Harold and Kumar Go to White Castle (2004)" in lines
    assert "  (Saved)" in lines
    assert "bot> Harold & Kumar Escape from Guantanamo Bay (2008): 9/10 ✓" in lines
    assert (
        "bot> Scores are whole numbers from 1 to 10, like: /rate Ted 8. Nothing was saved." in lines
    )
    assert "bot> Your taste, from your 2 ratings." in lines
    picture = tmp_path / "moviebot-taste-1.png"
    assert f"     [picture: {picture}]" in lines
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert lines[-1] == "bot> There is no such choice. Type #1, #2 ... for the buttons shown."


def test_chat_on_a_new_database_answers_while_the_first_fit_runs(tmp_path: Path) -> None:
    db, model = tmp_path / "fresh.db", tmp_path / "fresh.model.npz"
    out = chat(db, model, ["/rate frozzen 9", "/recommend 2"], tmp_path)
    assert "bot> Frozen (2013): 9/10 ✓" in out
    # The fit takes seconds in its own process; the console answered without waiting for it.
    assert (
        "bot> My model is still learning (about a minute); until then these are the "
        "best-rated films overall." in out
    )
    assert model.exists()  # the console waited for the fit at the end


def test_a_console_session_in_russian(
    catalog_db_path: Path, catalog_model_path: Path, tmp_path: Path
) -> None:
    out = chat(
        catalog_db_path,
        catalog_model_path,
        ["/rate Ted 8", "/rate Ted 11", "#99", "/language es", "/cancel"],
        tmp_path,
        language="ru",
    )
    lines = out.splitlines()
    assert lines[0].startswith("Консольный чат moviebot.")
    assert "bot> Ted (2012): 8/10 ✓" in lines
    assert (
        "bot> Оценка — целое число от 1 до 10, например: /rate Ted 8. Я ничего не сохранил."
        in lines
    )
    assert "bot> Такого варианта нет. Набери #1, #2 ... — по номерам показанных кнопок." in lines
    assert "bot> ¡Hecho! A partir de ahora te hablo en español." in lines
    assert lines[-1] == "bot> No había nada que cancelar. Con /help verás lo que sé hacer."
