#!/usr/bin/env bash
# The fresh-machine check (`make fresh-check`): clone the committed HEAD into a temporary folder
# (with ../shared beside it, which the tests read), then for each tested Python make a new
# virtual environment with an empty pip cache and run the README's two commands, `make demo`
# and `make test`. Prints one line per Python and exits non-zero when any of them failed.
#   FRESH_PYTHONS="3.11 3.12 3.13"  versions (or interpreter paths) to check
#   FRESH_KEEP=1                    keep the temporary folder (logs, clones) for a look
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared" 2>/dev/null && pwd) || { echo "no ../shared beside $repo"; exit 2; }
pythons=${FRESH_PYTHONS:-"3.11 3.12 3.13"}
work=$(mktemp -d "${TMPDIR:-/tmp}/cdisc-fresh.XXXXXX")
[ "${FRESH_KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
commit=$(git -C "$repo" rev-parse --short HEAD)
echo "fresh-check of commit $commit in $work"

interpreter() {  # a version like 3.12, or a path; only one that really runs (pyenv shims may not)
  local cand root
  for cand in "$1" "$(command -v "python$1" 2>/dev/null)"; do
    if [ -x "$cand" ] && "$cand" -c "import sys" >/dev/null 2>&1; then echo "$cand"; return; fi
  done
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  ls -d "$root"/versions/"$1".*/bin/"python$1" 2>/dev/null | sort -V | tail -1
}

failed=0
for version in $pythons; do
  py=$(interpreter "$version")
  if [ -z "$py" ]; then echo "python $version: FAILED (no interpreter found)"; failed=1; continue; fi
  dir="$work/py$version"; mkdir -p "$dir"
  ln -s "$shared" "$dir/shared"
  git clone --quiet "$repo" "$dir/main"
  log="$dir/log.txt"; start=$(date +%s)
  (
    cd "$dir/main" &&
    export PIP_CACHE_DIR="$dir/pip-cache" PIP_NO_CACHE_DIR= GX_ANALYTICS_ENABLED=False &&
    make demo PYTHON="$py" && make test PYTHON="$py"
  ) > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed)" "$log" | tail -1 | tr -d '=')
  versions=$("$dir/main/.venv/bin/python" -c 'import platform; print(platform.python_version())' 2>/dev/null)
  if [ $rc -eq 0 ]; then
    echo "python $versions: passed in ${took}s (make demo ok; make test:${summary:- ?})"
  else
    echo "python ${versions:-$version}: FAILED in ${took}s (exit $rc); last lines of $log:"
    tail -15 "$log" | sed 's/^/    /'
    failed=1
  fi
done
exit $failed
