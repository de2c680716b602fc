# credwatch prompt hook for fish, printed by `credwatch init fish`.
# Use: credwatch init fish | source   (in ~/.config/fish/config.fish)
#
# Per prompt it starts no process: it reads the daemon's one-line state file with `read`, and
# tells the time from builtins (fish has no $EPOCHSECONDS: a path's mtime plus its age, from
# `path mtime`, fish ≥ 3.5). Broken logins show in $CREDWATCH_PROMPT (fish_prompt is never
# redefined), with one line on stderr when that changes, and a warning before a command that
# uses a broken login. CREDWATCH_DISABLE=1 turns it off.

status is-interactive; or return 0

set -g _credwatch_bin @CREDWATCH_BIN@
set -g _credwatch_dir @CREDWATCH_RUNTIME_DIR@
set -g _credwatch_cmds
set -g _credwatch_texts
set -g _credwatch_shown ''
set -g _credwatch_next_check 0
set -g _credwatch_daemon_seen ''
set -g _credwatch_last_line ''
set -g _credwatch_last_pid 0
set -g _credwatch_ticks

# Steady state (daemon alive, nothing changed): one `read`, one `test`, no command substitution
# (each costs about 90 µs in fish). valid_until needs the time, which fish tells only through
# `path mtime` substitutions: it is checked every 20th prompt and whenever the line changes; a
# dead daemon is caught at every prompt through /proc.
function _credwatch_refresh --argument-names line
    set -l file $_credwatch_dir/prompt
    set -g _credwatch_ticks
    set -g _credwatch_last_line "$line"
    set -l fields (string split -m 2 ' ' -- $line)
    set -l pid $fields[1]
    set -l until $fields[2]
    set -l message $fields[3]
    set -g _credwatch_last_pid $pid
    set -l fresh 0
    if test "$pid" -gt 0 2>/dev/null; and test -d /proc/$pid
        set fresh 1
        if test "$until" != 0
            set -l now (math (path mtime /) + (path mtime --relative /))
            test "$now" -lt "$until" 2>/dev/null; or set fresh 0
        end
    end
    if test $fresh = 1
        set -g CREDWATCH_DAEMON 1
        set -g _credwatch_daemon_seen 1
    else
        set -g CREDWATCH_DAEMON 0
        set -g _credwatch_last_line ''
        if test -n "$_credwatch_daemon_seen"
            set -g _credwatch_daemon_seen ''
            printf 'credwatch: the watchdog stopped; checking directly every %ss until it runs again\n' (set -q CREDWATCH_INTERVAL; and echo $CREDWATCH_INTERVAL; or echo 30) >&2
        end
        set -l now (math (path mtime /) + (path mtime --relative /))
        if test $now -ge $_credwatch_next_check; and test -x $_credwatch_bin
            set -l interval 30
            set -q CREDWATCH_INTERVAL; and set interval $CREDWATCH_INTERVAL
            set -g _credwatch_next_check (math $now + $interval)
            _credwatch_check_detached
        end
        set file $_credwatch_dir/prompt.direct
        set message ''
        if test -r $file
            read -l direct <$file
            set message (string split -m 2 ' ' -- $direct)[3]
        end
    end
    set -g _credwatch_cmds
    set -g _credwatch_texts
    if test -n "$message"; and test -r $file
        set -l first 1
        while read -l entry
            if test $first = 1
                set first 0
                continue
            end
            set -l pair (string split -m 1 \t -- $entry)
            set -a _credwatch_cmds $pair[1]
            set -a _credwatch_texts "$pair[2]"
        end <$file
    end
    set -g CREDWATCH_PROMPT "$message"
    if test "$message" != "$_credwatch_shown"
        set -g _credwatch_shown "$message"
        test -n "$message"; and printf 'credwatch: %s — run: credwatch status\n' "$message" >&2
    end
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
    command sh -c '"$0" prompt --cache >/dev/null 2>&1 </dev/null &' $_credwatch_bin
end

function _credwatch_prompt --on-event fish_prompt
    test "$CREDWATCH_DISABLE" = 1; and return
    set -l line ''
    test -r $_credwatch_dir/prompt; and read -l line <$_credwatch_dir/prompt
    set -a _credwatch_ticks 1
    if test -n "$line" -a "$line" = "$_credwatch_last_line" -a -d /proc/$_credwatch_last_pid
        set -q _credwatch_ticks[20]; or return
    end
    _credwatch_refresh $line
end

function _credwatch_preexec --on-event fish_preexec
    test "$CREDWATCH_DISABLE" = 1; and return
    set -l line (string trim -l -- $argv[1])
    set -l i 0
    for cmd in $_credwatch_cmds
        set i (math $i + 1)
        if test "$line" = "$cmd"; or string match -q -- "$cmd *" "$line"
            printf '%s\n' $_credwatch_texts[$i] >&2
            return
        end
    end
end

# Tells `credwatch doctor` that this shell runs the hook.
status is-interactive; and set -gx CREDWATCH_HOOK "fish $fish_pid"
