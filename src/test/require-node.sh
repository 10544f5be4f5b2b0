# Sourced by the npm install scripts of the tests (src/test/agui/install.sh, src/test/console/install.sh): stops with
# a clear message unless Node.js 20+ and npm are on the PATH. $1 names the tests that need them. Also defines
# npm_ci_when_changed.
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

# npm_ci_when_changed LABEL: installs the packages of the current folder from package-lock.json, only when the lockfile
# or package.json changed since the last install, so builds after the first need no network.
npm_ci_when_changed() {
  local installed=node_modules/.package-lock.json
  if [ -f "$installed" ] && [ "$installed" -nt package-lock.json ] && [ "$installed" -nt package.json ]; then
    echo "$1 packages are up to date"
  else
    npm ci --no-audit --no-fund --loglevel=error
  fi
}
