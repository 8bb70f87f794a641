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
EXTRAS="${1:-}"
STAMP="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)${EXTRAS:+-$EXTRAS}"
# uv installs the same packages several times faster than pip (docs/history/first-start.md):
# the uv on PATH, else the Python's, else one that the Python's pip puts into .venv (a few
# seconds); unless MOVIEBOT_INSTALLER=pip. Plain pip is the fallback. uv reads no pip
# configuration: the package indexes, find-links and constraints pip is set up with (its files
# or PIP_* variables) are handed to it, and it picks the best version across them as pip does.
# It leaves compiling to bytecode to Python's first import (only what is imported, once),
# except where Python writes no caches (PYTHONDONTWRITEBYTECODE): there every start would
# compile again, so uv compiles at install, as pip always does.
UV=()
find_uv() {
  [ "${MOVIEBOT_INSTALLER:-}" != pip ] || return 1
  if command -v uv >/dev/null 2>&1; then
    UV=(uv)
  elif "$PYTHON" -m uv --version >/dev/null 2>&1; then
    UV=("$PYTHON" -m uv)
  elif "$VENV/bin/python" -m uv --version >/dev/null 2>&1 \
    || "$PYTHON" -m pip --python "$VENV/bin/python" install --disable-pip-version-check -q uv \
      >/dev/null 2>&1; then
    UV=("$VENV/bin/python" -m uv)
  else
    return 1
  fi
}
pip_setting() {  # NAME: its value in pip's configuration (PIP_CONFIG), a PIP_* variable first
  printf '%s\n' "$PIP_CONFIG" | sed -n "s/^\(:env:\|global\|install\)\.$1='\(.*\)'$/\1 \2/p" \
    | LC_ALL=C sort -s -k1,1 | head -n 1 | cut -d' ' -f2-
}
uv_install() {
  local settings=(UV_INDEX_STRATEGY=unsafe-best-match)
  add() { [ -z "$2" ] || settings+=("$1=$2"); }
  PIP_CONFIG="$("$PYTHON" -m pip config list 2>/dev/null || true)"
  add UV_INDEX_URL "$(pip_setting index-url)"
  add UV_EXTRA_INDEX_URL "$(pip_setting extra-index-url)"
  local links="$(pip_setting find-links)"
  add UV_FIND_LINKS "${links// /,}"
  add UV_CONSTRAINT "$(pip_setting constraint)"
  env "${settings[@]}" "${UV[@]}" pip install --quiet ${PYTHONDONTWRITEBYTECODE:+--compile-bytecode} \
    --python "$VENV/bin/python" "$@" >&2
}
# pip's own lines, condensed: on a terminal one status line that follows what pip is doing,
# elsewhere (a log, a pipe) pip's lines as they are.
pip_install() {
  # .venv is made without pip (ensurepip alone took 3-13 s): added when pip installs.
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || "$VENV/bin/python" -m ensurepip >/dev/null
  if [ -t 2 ]; then
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" \
      | while IFS= read -r line; do printf '\r\033[K    %.76s' "$line" >&2; done
    printf '\r\033[K' >&2
  else
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" >&2
  fi
}
if [ ! -x "$VENV/bin/python" ]; then
  step "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv --without-pip "$VENV"
fi
if [ ! -f "$STAMP" ]; then
  step "installing moviebot${EXTRAS:+ with [$EXTRAS]} and its dependencies into .venv" \
    "(numpy, scipy, matplotlib, python-telegram-bot...)"
  if find_uv && uv_install -e "$ROOT${EXTRAS:+[$EXTRAS]}"; then
    :
  else
    [ "${#UV[@]}" -eq 0 ] || step "uv could not install them; installing with pip (about a minute)"
    pip_install -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  fi
  touch "$STAMP"
  step "installed"
fi
export PATH="$VENV/bin:$PATH"
