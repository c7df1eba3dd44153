# Shared by the scripts: find Python >= 3.12, install uv beside the project, sync the locked environment.
# Sourced, not run. Idempotent: a second run only checks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

find_python() {
  local candidate version
  for candidate in "${TESSERA_PYTHON:-}" python3.13 python3.12 \
      "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.1[23]*/bin/python3 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ] || continue
    version=$("$candidate" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) || continue
    if [ "$version" = 1 ]; then
      "$candidate" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  echo "Tessera needs Python 3.12 or newer (set TESSERA_PYTHON to its path)." >&2
  return 1
}

PYTHON="$(find_python)"
TOOLS="$ROOT/.tools"
if [ ! -x "$TOOLS/bin/uv" ]; then
  echo "Installing uv into $TOOLS ..."
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
UV="$TOOLS/bin/uv"
"$UV" sync --frozen --quiet --python "$PYTHON"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"

compile_translations() {
  # .mo files are build products: compiled from the committed .po catalogues on every setup.
  if command -v msgfmt >/dev/null 2>&1; then
    (cd "$ROOT/tessera" && "$VENV/bin/python" -m django compilemessages --settings=tessera.settings -v 0 \
      --ignore '.venv/*' >/dev/null)
  else
    echo "msgfmt not found: install gettext (apt-get install gettext) to compile translations." >&2
    return 1
  fi
}
