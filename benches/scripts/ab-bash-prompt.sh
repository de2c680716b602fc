#!/usr/bin/env bash
# A/B of two rendered bash hooks on the path `cargo bench --bench prompt` calls "prompt after a
# command": interactive bash reading LINES `:` lines from a pipe, with hook A, with hook B, and
# with an empty PROMPT_COMMAND function, in alternating rounds. Prints, per round, the µs each
# hook adds per line over the empty one, then the medians. Run it in a HOME where a daemon runs
# and a warning is pending (see BENCHMARKS.md); the hooks as `credwatch init bash` printed them
# (an older commit's binary for A).
# usage: ab-bash-prompt.sh HOOK_A HOOK_B [ROUNDS] [LINES]
set -euo pipefail
a=$1 b=$2 rounds=${3:-15} lines=${4:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((i = 0; i < lines; i++)); do echo :; done >"$work/in"
printf 'PS1="$ "\n_empty() { :; }\nPROMPT_COMMAND=_empty\n' >"$work/plain.rc"
printf 'PS1="$ "\nsource %q\n' "$a" >"$work/a.rc"
printf 'PS1="$ "\nsource %q\n' "$b" >"$work/b.rc"
run() { # rc file -> µs for the whole run
  local start end
  start=$EPOCHREALTIME
  bash --rcfile "$1" -i <"$work/in" >/dev/null 2>&1 || :
  end=$EPOCHREALTIME
  echo $((${end/./} - ${start/./}))
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
: >"$work/rounds"
for ((r = 0; r < rounds; r++)); do
  plain=$(run "$work/plain.rc") with_a=$(run "$work/a.rc") with_b=$(run "$work/b.rc")
  echo "$(((with_a - plain) / lines)) $(((with_b - plain) / lines))" | tee -a "$work/rounds"
done
echo "median µs added per line: A $(awk '{print $1}' "$work/rounds" | median), B $(awk '{print $2}' "$work/rounds" | median), A - B $(awk '{print $1 - $2}' "$work/rounds" | median)"
