# Sourced by scripts/start and scripts/test: make .venv with Python 3.11+ and install moviebot
# (with the extras named in $1) into it, skipping the install when pyproject.toml is unchanged.
# Each step says what it does on one line (on stderr, so piped output stays the bot's).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "moviebot needs Python 3.11 or newer ($PYTHON is older)" >&2; exit 1; }
VENV="$ROOT/.venv"
step() { echo "==> $*" >&2; }
if [ ! -x "$VENV/bin/python" ]; then
  step "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi
EXTRAS="${1:-}"
STAMP="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)${EXTRAS:+-$EXTRAS}"
if [ ! -f "$STAMP" ]; then
  step "installing moviebot${EXTRAS:+ with [$EXTRAS]} and its dependencies into .venv" \
    "(numpy, scipy, matplotlib, python-telegram-bot...; about a minute the first time)"
  # pip's own lines, condensed: on a terminal one status line that follows what pip is doing,
  # elsewhere (a log, a pipe) pip's lines as they are.
  if [ -t 2 ]; then
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
      -e "$ROOT${EXTRAS:+[$EXTRAS]}" \
      | while IFS= read -r line; do printf '\r\033[K    %.76s' "$line" >&2; done
    printf '\r\033[K' >&2
  else
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
      -e "$ROOT${EXTRAS:+[$EXTRAS]}" >&2
  fi
  touch "$STAMP"
  step "installed"
fi
export PATH="$VENV/bin:$PATH"
