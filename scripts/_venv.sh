# Sourced by scripts/start and scripts/test: make .venv with Python 3.11+ and install moviebot
# (with the extras named in $1) into it, skipping the install when pyproject.toml is unchanged.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "moviebot needs Python 3.11 or newer ($PYTHON is older)" >&2; exit 1; }
VENV="$ROOT/.venv"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
EXTRAS="${1:-}"
STAMP="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)${EXTRAS:+-$EXTRAS}"
if [ ! -f "$STAMP" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
