# credwatch prompt hook for fish, printed by `credwatch init fish`.
# Use: credwatch init fish | source   (in ~/.config/fish/config.fish)
#
# Per prompt it starts no process and opens no file: while the daemon runs and nothing changed,
# one `test` stats the marker of the state it last read and the daemon's /proc entry; the
# daemon's state file is read (with `read`) only when that changed. Broken logins show in
# $CREDWATCH_PROMPT (exported, for a prompt that renders in a child process such as starship;
# fish_prompt is never redefined), with one line on stderr when that changes, and a warning
# before each command of a line that uses a broken login (with CREDWATCH_CONFIRM=1 set before
# the hook is sourced, a question whether to run it). CREDWATCH_DISABLE=1 turns it off.
# When a variable that selects a login (KUBECONFIG, AWS_PROFILE, ...) changes (fish tells,
# --on-variable: nothing is compared at a prompt), the hook hands this shell's context to the
# daemon at the next prompt (a shadowing variable such as GH_TOKEN only as set or not) and reads
# the prompt file kept for this shell.
# In a non-interactive fish (`fish -c`, as prompt frameworks such as tide start in the
# background) it does nothing.

status is-interactive; or return 0

set -g _credwatch_bin @CREDWATCH_BIN@
set -g _credwatch_dir @CREDWATCH_RUNTIME_DIR@
# The variables whose values select a login, and those that shadow one.
set -g _credwatch_selects @CREDWATCH_SELECTS@
set -g _credwatch_shadows @CREDWATCH_SHADOWS@
# Control characters (C0, DEL, C1), replaced where a prompt file is read.
set -g _credwatch_controls '[\x00-\x1f\x7f\x{80}-\x{9f}]'
# Whether they changed since the context was last handed over, its generation, and how many
# prompts have waited for the daemon's answer.
set -g _credwatch_context_changed 1
set -g _credwatch_generation ''
set -g _credwatch_waited 0
set -g _credwatch_cmds
# The first words of the commands warned about, as one regular expression (see
# _credwatch_preexec); `(?!)` matches nothing.
set -g _credwatch_named '(?!)'
set -g _credwatch_texts
set -g _credwatch_shown ''
set -g _credwatch_next_check 0
set -g _credwatch_daemon_seen ''
# The deadline of the state last read (0: none), and the command line ($status_generation) at
# which the clock is read next.
set -g _credwatch_until 0
set -g _credwatch_tock_at 0
# What the prompt checks: paths that all exist while nothing changed: the marker of the state
# last read ($_credwatch_dir/prompt.STAMP exists while that state is current) and the daemon's
# /proc entry; `/` while disabled; a path that never exists: read again at the next prompt.
set -g _credwatch_watch $_credwatch_dir/prompt.

# The time, from builtins: fish has no $EPOCHSECONDS, but `path mtime` (fish >= 3.5) tells a
# path's mtime and its age. Costs a command substitution (~90 µs), so it runs only on a change.
function _credwatch_now
    math (path mtime /) + (path mtime --relative /)
end

# Reads one prompt file: prints pid, until, stamp and message (one per line, in that order) and
# sets the warning lists.
# Prints pid, until, stamp, message and (for a shell's own file, with `own` given) the
# generation it answers.
function _credwatch_read --argument-names file own
    set -g _credwatch_cmds
    set -g _credwatch_texts
    set -l fields 0 0 '' '' ''
    # Only a regular file of ours, not a link, in a directory of ours: a state another user
    # planted (/tmp/credwatch-UID made by them) or a FIFO is never read.
    set -l dir (string replace -r '/[^/]*$' '' -- $file)
    if test -f $file; and not test -L $file; and test -O $file; and test -O $dir; and not test -L $dir
        set -l first 1
        while read -l entry
            if test $first = 1
                set first 0
                if test -n "$own"
                    set -l split (string split -m 4 ' ' -- $entry)
                    set fields[1..(count $split)] $split
                    # The generation comes before the message.
                    set fields $fields[1..3] $fields[5] $fields[4]
                else
                    set -l split (string split -m 3 ' ' -- $entry)
                    set fields[1..(count $split)] $split
                end
                continue
            end
            set -l pair (string split -m 1 \t -- $entry)
            set -a _credwatch_cmds $pair[1]
            # The last step before the terminal: no control character of the file reaches it.
            set -a _credwatch_texts (string replace -ra $_credwatch_controls '?' -- "$pair[2]")
        end <$file
    end
    # (Not of the `!` commands, which only exempt.)
    set -l words
    for cmd in $_credwatch_cmds
        string match -q -- '!*' $cmd; and continue
        set -a words (string escape --style=regex -- (string split -f1 ' ' -- $cmd))
    end
    set -g _credwatch_named '(?!)'
    set -q words[1]; and set -g _credwatch_named (string join '|' -- $words)
    set fields[4] (string replace -ra $_credwatch_controls '?' -- "$fields[4]")
    string match -qr '^[0-9]+$' -- $fields[1]; or set fields[1] 0
    string match -qr '^[0-9]+$' -- $fields[2]; or set fields[2] 0
    string match -qr '^[0-9.]+$' -- $fields[3]; or set fields[3] ''
    string match -qr '^[0-9]*$' -- $fields[5]; or set fields[5] ''
    printf '%s\n' $fields
end

function _credwatch_context_changed @CREDWATCH_ON_VARIABLES@
    set -g _credwatch_context_changed 1
    test "$CREDWATCH_DISABLE" = 1; and return
    set -g _credwatch_watch $_credwatch_dir/prompt.
end

# Hands this shell's context to the daemon when it changed since it was last handed over, or
# when the daemon lost it (a new runtime dir): one file written with printf, a builtin. A
# variable counts only when exported (what a command sees).
function _credwatch_send_context
    set -l file $_credwatch_dir/context/$fish_pid
    test $_credwatch_context_changed = 1; or not test -e $file; or return 0
    # Marked sent even when it cannot be (no daemon made the directory yet): the missing file
    # sends it once the directory exists.
    set -g _credwatch_context_changed 0
    set -l dir $_credwatch_dir/context
    test -d $dir; and test -O $dir; and not test -L $dir; or return 0
    set -g _credwatch_generation (random 1 999999999)(random 1 999999999)
    set -g _credwatch_waited 0
    # @wake: the daemon sends SIGURG when what this shell shows changes (see _credwatch_woken).
    set -l records $_credwatch_generation @wake
    for name in $_credwatch_selects
        if set -qx $name
            set -a records "$name=$$name"
        else
            set -a records $name
        end
    end
    for name in $_credwatch_shadows
        if not set -qx $name; or contains -- (string lower -- "$$name") '' @CREDWATCH_OFF_LIST@
            set -a records $name
        else
            set -a records "$name=1"
        end
    end
    printf '%s\0' $records end >$file 2>/dev/null
end

function _credwatch_refresh
    # An answer to CREDWATCH_CONFIRM's question was about the state before (see _credwatch_preexec).
    set -e _credwatch_asked
    _credwatch_send_context
    set -l now (_credwatch_now)
    set -l fields
    set -l live 0
    set -l waiting 0
    # This shell's own answer first: when it answers the context handed over, it is the one
    # file read.
    if test -n "$_credwatch_generation"
        set fields (_credwatch_read $_credwatch_dir/shell/$fish_pid own)
        if test "$fields[5]" = "$_credwatch_generation"; and _credwatch_holds $fields[1] $fields[2] $now
            set live 1
            set -g _credwatch_watch $_credwatch_dir/shell/$fish_pid.$fields[3] /proc/$fields[1]
        end
    end
    if test $live = 0
        set fields (_credwatch_read $_credwatch_dir/prompt)
        if _credwatch_holds $fields[1] $fields[2] $now
            set live 1
            set -g _credwatch_watch $_credwatch_dir/prompt.$fields[3] /proc/$fields[1]
            test -n "$_credwatch_generation"; and set waiting 1
        end
    end
    set -l message $fields[4]
    if test $live = 1
        set -gx CREDWATCH_DAEMON 1
        set -g _credwatch_daemon_seen 1
        set -g _credwatch_until $fields[2]
        # Not answered yet: the daemon's own view, read again at the next prompts (three), then
        # once its clock is looked at again at least 5 s on (a slow answer is picked up; a
        # daemon that does not keep contexts never answers).
        if test $waiting = 1 -a $_credwatch_waited -lt 3
            set -g _credwatch_waited (math $_credwatch_waited + 1)
            set -g _credwatch_watch $_credwatch_dir/prompt.
        else if test $waiting = 1
            if test "$_credwatch_until" = 0 -o "$_credwatch_until" -gt (math $now + 5)
                set -g _credwatch_until (math $now + 5)
            end
        end
    else
        set -gx CREDWATCH_DAEMON 0
        set -g _credwatch_until 0
        set -g _credwatch_watch $_credwatch_dir/prompt.
        if test -n "$_credwatch_daemon_seen"
            set -g _credwatch_daemon_seen ''
            if test -x "$_credwatch_bin"
                printf 'credwatch: the watchdog stopped; checking directly every %ss until it runs again\n' (set -q CREDWATCH_INTERVAL; and echo $CREDWATCH_INTERVAL; or echo 30) >&2
            else
                printf 'credwatch: %s is gone (uninstalled?): this hook does nothing more; remove its line from your shell startup file\n' "$_credwatch_bin" >&2
            end
        end
        if test $now -ge $_credwatch_next_check; and test -x $_credwatch_bin
            set -l interval 30
            set -q CREDWATCH_INTERVAL; and set interval $CREDWATCH_INTERVAL
            set -g _credwatch_next_check (math $now + $interval)
            _credwatch_check_detached
        end
        set fields (_credwatch_read $_credwatch_dir/shell/$fish_pid.direct)
        set message $fields[4]
    end
    # The flag in this shell's locale (the daemon's is not the shell's).
    set -l locale $LC_ALL
    test -n "$locale"; or set locale $LC_CTYPE
    test -n "$locale"; or set locale $LANG
    string match -qir 'utf-?8' -- "$locale"; or set message (string replace -a '⚠' '!' -- "$message")
    set -gx CREDWATCH_PROMPT "$message"
    if test "$message" != "$_credwatch_shown"
        set -g _credwatch_shown "$message"
        test -n "$message"; and printf 'credwatch: %s — run: credwatch status\n' "$message" >&2
    end
end

# Whether a state read (its pid and until, at now) is a live daemon's that still holds.
function _credwatch_holds --argument-names pid until now
    test "$pid" -gt 0; and test -d /proc/$pid; and test "$until" = 0 -o "$now" -lt "$until"
end

function _credwatch_check_detached
    set -l autostart 1
    if set -q CREDWATCH_AUTOSTART
        set autostart $CREDWATCH_AUTOSTART
    else if set -q XDG_RUNTIME_DIR; and test -S $XDG_RUNTIME_DIR/systemd/private
        set autostart 0
    end
    # Through sh, which exits at once: no fish job, so no "job ended" line.
    if test "$autostart" = 1
        command sh -c '"$0" daemon >/dev/null 2>&1 </dev/null &' $_credwatch_bin
    end
    command sh -c '"$0" prompt --cache --shell "$1" >/dev/null 2>&1 </dev/null &' $_credwatch_bin $fish_pid
end

# Every prompt: one builtin, two stats (`path is -v`: true when a path is missing). The rest
# runs when the state changed.
function _credwatch_prompt --on-event fish_prompt
    path is -vq $_credwatch_watch; and _credwatch_refresh
end

# CREDWATCH_DISABLE is watched, so neither the prompt nor preexec need test it.
function _credwatch_disable --on-variable CREDWATCH_DISABLE
    if test "$CREDWATCH_DISABLE" = 1
        set -g _credwatch_watch /
        set -gx CREDWATCH_PROMPT ''
        set -gx CREDWATCH_DAEMON ''
        set -g _credwatch_shown ''
        set -g _credwatch_cmds
        set -g _credwatch_texts
        set -g _credwatch_named '(?!)'
    else
        set -g _credwatch_watch $_credwatch_dir/prompt.
    end
end
_credwatch_disable

# Whether the words of a part run command $cmd: its first word, then each further word of the
# command among the part's later words (`git -C /tmp fetch` runs `git fetch`).
function _credwatch_runs --argument-names cmd part
    set -l want (string split ' ' -- $cmd)
    set -l words (string split -n ' ' -- (string replace -ra '\s+' ' ' -- $part))
    test "$words[1]" = "$want[1]"; or return 1
    set -l i 2
    for w in $words[2..-1]
        test $i -le (count $want); or break
        test "$w" = "$want[$i]"; and set i (math $i + 1)
    end
    test $i -gt (count $want)
end

# The warnings for a command line: one per broken login that a command of the line uses. The
# line is split at ; & | ( ) { } ` and newlines (a separator inside quotes only adds a part);
# each part loses its leading assignments (NAME=value), the words that run what follows them
# (command, env, exec, nohup, nice, time, timeout, ionice, stdbuf, keywords), their options and
# the arguments of those (`nice -n 10`, `timeout 5`), and a directory (/usr/bin/gh). sudo runs
# what follows as the user only with `-u` naming the user; otherwise what it runs uses root's
# logins. A command that makes the login (`!gh auth login` in the state) is not warned.
function _credwatch_warning_for --argument-names line
    set -l shown
    for part in (string replace -ra '[;&|(){}`\n]' \n -- $line | string split \n)
        set part (string replace -r '^\s*((command|builtin|env|exec|nohup|nice|time|timeout|ionice|stdbuf|and|or|not|begin|if|else|while|!|-[nckupsCS]\s+\S+|-\S*|[0-9]\S*|[A-Za-z_][A-Za-z0-9_]*=\S*)\s+)*' '' -- $part)
        if string match -qr '^sudo\s' -- $part
            # As the user (-u naming them): what follows; else root's logins.
            set -l rest (string replace -r '^sudo\s+(-[^u\s]\S*\s+)*-u\s+('"$USER"'|\$USER|\$\{USER\})\s+' '' -- $part)
            test "$rest" != "$part"; or continue
            set part (string replace -r '^\s*((-\S*|[A-Za-z_][A-Za-z0-9_]*=\S*)\s+)*' '' -- $rest)
        end
        set part (string replace -r '^\S*/' '' -- $part)
        test -n "$part"; or continue
        set -l exempt 0
        for cmd in $_credwatch_cmds
            string match -q -- '!*' $cmd; or continue
            _credwatch_runs (string sub -s 2 -- $cmd) "$part"; and set exempt 1; and break
        end
        test $exempt = 0; or continue
        set -l i 0
        for cmd in $_credwatch_cmds
            set i (math $i + 1)
            string match -q -- '!*' $cmd; and continue
            if _credwatch_runs "$cmd" "$part"
                contains -- $_credwatch_texts[$i] $shown; or set -a shown $_credwatch_texts[$i]
            end
        end
    end
    test -n "$shown[1]"; and printf '%s\n' $shown
end

function _credwatch_preexec --on-event fish_preexec
    # The prompt cannot tell the time cheaply (a command substitution, ~90 µs): every 20th
    # command line ($status_generation counts them), and before a watched one, compares it with
    # the state's deadline (a daemon that stalled is not trusted past it).
    test $status_generation -lt $_credwatch_tock_at; or _credwatch_tock
    # Only a line that names a watched command can use it: one test, and the rest only then (in
    # fish each command costs several µs, and the parsing a millisecond). A change while the
    # prompt waited was read when it came (the daemon's wake-up, _credwatch_woken); while
    # disabled nothing is named.
    string match -qr -- $_credwatch_named "$argv[1]"; or return
    # Asked already, before the line ran (CREDWATCH_CONFIRM=1: only a line that names a watched
    # command is asked about, and a state read since takes the answer back, see _credwatch_refresh).
    set -q _credwatch_asked; and set -e _credwatch_asked; and return
    # The warning below is about the state now.
    _credwatch_tock
    path is -vq $_credwatch_watch; and _credwatch_refresh
    set -l text (_credwatch_warning_for "$argv[1]")
    set -q text[1]; and printf '%s\n' $text >&2
end

# Once the state's deadline passed (a daemon that stopped publishing), it is read again.
function _credwatch_tock
    set -g _credwatch_tock_at (math $status_generation + 20)
    test "$CREDWATCH_DISABLE" != 1 -a "$_credwatch_until" != 0; or return
    test (_credwatch_now) -lt $_credwatch_until; or set -g _credwatch_watch $_credwatch_dir/prompt.
end

# SIGURG, sent by the daemon when what this shell shows changed (it asked: `@wake` in its
# context, so it is not sent to a shell running an older hook): the state is read at once and
# the prompt drawn again, so the flag shows while the prompt waits, and the warning before the
# next command is about the state now. Not sent while the shell waits for a command.
function _credwatch_woken --on-signal SIGURG
    test "$CREDWATCH_DISABLE" = 1; and return
    _credwatch_refresh
    commandline -f repaint 2>/dev/null
end

# CREDWATCH_CONFIRM=1 (when the hook is sourced): Enter on a line that uses a broken credential
# shows the warning and asks whether to run it; "no" keeps the line for editing. fish cannot
# cancel a command from fish_preexec, so this binds Enter (default and vi insert modes) unless
# the user bound it already; the function ends in `execute`, as fish's own binding does.
function _credwatch_execute
    if test "$CREDWATCH_CONFIRM" = 1 -a "$CREDWATCH_DISABLE" != 1
        path is -vq $_credwatch_watch; and _credwatch_refresh
        set -l line (string join \n -- (commandline))
        set -l text
        string match -qr -- $_credwatch_named "$line"; and set text (_credwatch_warning_for "$line")
        if set -q text[1]
            printf '\n%s\n' $text >&2
            read -n 1 -P 'credwatch: run it anyway? [y/N] ' -l reply
            if not string match -qi y -- "$reply"
                commandline -f repaint
                return
            end
            set -g _credwatch_asked 1
        end
    end
    commandline -f execute
end
if test "$CREDWATCH_CONFIRM" = 1
    for mode in default insert
        for key in \r \n
            bind --user -M $mode $key >/dev/null 2>&1; or bind -M $mode $key _credwatch_execute
        end
    end
end

# Tells `credwatch doctor` that this shell runs the hook.
status is-interactive; and set -gx CREDWATCH_HOOK "fish $fish_pid"
