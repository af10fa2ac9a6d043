#!/usr/bin/env bash
# Creates the Python environment of the peer tools that the benchmarks run side by side
# with sdelang (JAX, BlackJAX, NumPyro, diffrax, OpenMM, JAX-MD, cmdstanpy, ArviZ).
#
#   benches/setup-peers.sh            # create and install (skips what is already done)
#   benches/setup-peers.sh --force    # reinstall the requirements even if the stamp matches
#
# Environment:
#   SDE_PEERS_DIR   the peers directory (default: <repo>/../shared/peers); read only
#   SDE_PEERS_VENV  where the virtualenv goes (default: <repo>/target/peers-venv)
#   PYTHON          the interpreter that creates the venv (default: python3)
#
# The peers directory may be read-only, so the venv lives outside it. A stamp file in the
# venv records the SHA-256 of the requirements it was installed from: a second run with
# the same requirements does nothing, a changed requirements file reinstalls.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
peers=${SDE_PEERS_DIR:-$repo/../shared/peers}
[ -d "$peers" ] && peers=$(cd "$peers" && pwd)
venv=${SDE_PEERS_VENV:-$repo/target/peers-venv}
python=${PYTHON:-python3}
force=0
[ "${1:-}" = "--force" ] && force=1

req=$peers/requirements.txt
if [ ! -f "$req" ]; then
  echo "setup-peers: no requirements file at $req (set SDE_PEERS_DIR)" >&2
  exit 1
fi
sum=$(sha256sum "$req" | cut -d' ' -f1)
stamp=$venv/.sdelang-peers-installed

if [ $force -eq 0 ] && [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
  echo "setup-peers: $venv already has $req installed"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup-peers: creating $venv with $($python --version 2>&1)"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi
echo "setup-peers: installing $req into $venv (several minutes the first time)"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$req"
# Fails (and leaves no stamp) if an installed package cannot be imported.
"$venv/bin/python" -c "import jax, blackjax, numpyro, diffrax, openmm, jax_md, cmdstanpy, arviz, sklearn"
echo "$sum" > "$stamp"
echo "setup-peers: ready: $venv/bin/python"
