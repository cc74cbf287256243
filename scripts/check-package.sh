#!/usr/bin/env bash
# Packaging check: build the wheel with a production labextension, install it into a
# fresh venv, and check that both halves of the extension are present and enabled.
set -euo pipefail

cd "$(dirname "$0")/.."
CHECK_VENV=.venv-package-check
DIST=dist

rm -rf "$DIST" "$CHECK_VENV"
jlpm build:prod
# A copy that an editable build may leave; the wheel maps the project's own install.json.
rm -f jupyterlab_collab_exec/labextension/install.json
python -m build --wheel --no-isolation --outdir "$DIST" . >/dev/null
wheel=$(ls "$DIST"/jupyterlab_collab_exec-*.whl)
echo "built $wheel"

python - "$wheel" <<'EOF'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
data = next(n.split("/data/")[0] + "/data/" for n in names if ".data/data/" in n)
required = [
    data + "share/jupyter/labextensions/jupyterlab-collab-exec/package.json",
    data + "share/jupyter/labextensions/jupyterlab-collab-exec/install.json",
    data + "share/jupyter/labextensions/jupyterlab-collab-exec/schemas/jupyterlab-collab-exec/plugin.json",
    data + "etc/jupyter/jupyter_server_config.d/jupyterlab_collab_exec.json",
    "jupyterlab_collab_exec/app.py",
]
missing = [name for name in required if name not in names]
static = [n for n in names if "/labextensions/jupyterlab-collab-exec/static/remoteEntry." in n]
if missing or not static:
    sys.exit(f"wheel is missing: {missing or 'the labextension static files'}")
if any("/tests/" in n for n in names):
    sys.exit("wheel ships the test suite")
print(f"wheel holds the labextension ({len(static)} entry point) and the server config")
EOF

python -m venv "$CHECK_VENV"
"$CHECK_VENV/bin/python" -m pip install --quiet "$wheel"
server=$("$CHECK_VENV/bin/jupyter" server extension list 2>&1)
lab=$("$CHECK_VENV/bin/jupyter" labextension list 2>&1)
echo "$server" | grep -E "jupyterlab_collab_exec" || true
echo "$lab" | grep -E "jupyterlab-collab-exec" || true
echo "$server" | grep -Eq "jupyterlab_collab_exec.*enabled" ||
  { echo "server extension not enabled" >&2; exit 1; }
echo "$server" | grep -Eq "jupyterlab_collab_exec [0-9.]+.*OK" ||
  { echo "server extension did not validate" >&2; exit 1; }
echo "$lab" | grep -Eq "jupyterlab-collab-exec v[0-9.]+.*enabled.*OK" ||
  { echo "labextension not enabled and OK" >&2; exit 1; }
rm -rf "$CHECK_VENV"
echo "packaging check passed"
