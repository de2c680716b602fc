#!/bin/bash
# How long a real client takes to write its login, as inotify sees it (the journal's settle time,
# issue #13, is chosen from these spans). Usage:
#   benches/client-writes/measure.sh DIR LOG CMD [ARGS...]   (stdin goes to CMD)
#   python3 benches/client-writes/gaps.py 'credentials$' LOG...   # the span per run
# e.g. three `aws configure set` in a row, in a scratch HOME:
#   HOME=$(mktemp -d) benches/client-writes/measure.sh "$HOME" /tmp/aws.log \
#     sh -c 'aws configure set aws_access_key_id A --profile p;
#            aws configure set aws_secret_access_key S --profile p;
#            aws configure set aws_session_token T --profile p'
set -u
here=$(dirname "${BASH_SOURCE[0]}")
watch_dir=$1 log=$2
shift 2
ready=$(mktemp)
python3 "$here/iwatch.py" "$watch_dir" "$log" 2>"$ready" &
watcher=$!
for _ in $(seq 50); do grep -q READY "$ready" && break; sleep 0.05; done
"$@"
status=$?
sleep 0.3
kill "$watcher"
wait "$watcher" 2>/dev/null
rm -f "$ready"
exit "$status"
