# Sourced by the npm install scripts of the tests (src/test/agui/install.sh, src/test/console/install.sh): stops with
# a clear message unless Node.js 20+ and npm are on the PATH. $1 names the tests that need them.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "The $1 need Node.js 20+ and npm on the PATH, and neither is there." >&2
  echo "Install Node.js 20 (it ships npm), or skip the tests with -DskipTests." >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "The $1 need Node.js 20 or newer; this is $(node --version)." >&2
  exit 1
fi
