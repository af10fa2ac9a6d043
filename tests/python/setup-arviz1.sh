#!/usr/bin/env bash
# Creates a virtualenv with ArviZ 1.x and cmdstanpy, for the test that reads sdelang's
# CmdStan CSV files with them (tests/outputs.rs, arviz1_reads_cmdstan_csv).
#
#   tests/python/setup-arviz1.sh      # skips when already installed
#
# ArviZ 1.x needs Python >= 3.12. The interpreter is the first that runs and is new enough
# of: $PYTHON, python3.14, python3.13, python3.12, then pyenv's installed 3.12+ versions
# (under $PYENV_ROOT, default ~/.pyenv). The venv goes to $SDELANG_ARVIZ1_VENV, default
# <repo>/target/arviz1-venv.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${SDELANG_ARVIZ1_VENV:-$repo/target/arviz1-venv}
packages=(arviz==1.3.0 arviz-base==1.3.1 arviz-stats==1.3.3 arviz-plots==1.3.2 cmdstanpy==1.3.2)
stamp=$venv/.sdelang-arviz1-installed
want="${packages[*]}"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup-arviz1: $venv already has $want"
  exit 0
fi

new_enough() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

python=""
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for candidate in ${PYTHON:-} python3.14 python3.13 python3.12 "$pyenv_root"/versions/3.1[2-9]*/bin/python3; do
  if [ -n "$candidate" ] && new_enough "$candidate"; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "setup-arviz1: no Python >= 3.12 found (set PYTHON)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup-arviz1: creating $venv with $("$python" --version 2>&1) ($python)"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q "${packages[@]}"
"$venv/bin/python" -c "import arviz, cmdstanpy; assert int(arviz.__version__.split('.')[0]) >= 1, arviz.__version__"
echo "$want" > "$stamp"
echo "setup-arviz1: ready: $venv/bin/python"
