# credwatch prompt hook for zsh, printed by `credwatch init zsh`.
# Use: eval "$(credwatch init zsh)" in ~/.zshrc.
#
# Per prompt it starts no process and opens no file: while the daemon runs and nothing changed,
# it stats the marker of the state it last read and the daemon's /proc entry; it reads the
# daemon's state file only when that changed. Before each command it compares $EPOCHSECONDS
# (zsh/datetime) with the state's deadline and checks the marker again. Broken logins show in $CREDWATCH_PROMPT (for your prompt; PROMPT is never
# rewritten), with one line on stderr when that changes, and a warning before a command that
# uses a broken login (with CREDWATCH_CONFIRM=1, a question whether to run it).
# CREDWATCH_DISABLE=1 turns it off; CREDWATCH_INTERVAL and CREDWATCH_AUTOSTART work as in the
# bash hook.

typeset -g _credwatch_bin=@CREDWATCH_BIN@
typeset -g _credwatch_dir=@CREDWATCH_RUNTIME_DIR@
typeset -ga _credwatch_cmds _credwatch_texts
typeset -g _credwatch_shown='' _credwatch_daemon_seen=''
typeset -gi _credwatch_next_check=0
# The state last read: its stamp (the marker $_credwatch_dir/prompt.STAMP exists while it is
# current; empty: read again at the next prompt), the daemon's pid and the deadline.
typeset -g _credwatch_stamp=''
typeset -gi _credwatch_pid=0 _credwatch_until=0
zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

# Reads one prompt file into the caller's pid, until, stamp and message, and its warning lines
# into the arrays.
_credwatch_read() {
  local cmd text
  pid='' until='' stamp='' message=''
  _credwatch_cmds=() _credwatch_texts=()
  if [[ -r $1 ]]; then
    {
      IFS=' ' read -r pid until stamp message
      # Warning lines exist only when something is broken, that is when the message is not empty.
      if [[ -n $message ]]; then
        while IFS=$'\t' read -r cmd text; do
          _credwatch_cmds+=("$cmd")
          _credwatch_texts+=("$text")
        done
      fi
    } <$1
  fi
  [[ -n $pid && -z ${pid//[0-9]/} ]] && pid=$(( 10#$pid )) || pid=0
  [[ -n $until && -z ${until//[0-9]/} ]] && until=$(( 10#$until )) || until=0
  [[ -n $stamp && -z ${stamp//[0-9.]/} ]] || stamp=''
}

_credwatch_refresh() {
  emulate -L zsh
  if [[ ${CREDWATCH_DISABLE-} == 1 ]]; then
    typeset -g CREDWATCH_PROMPT='' CREDWATCH_DAEMON=''
    _credwatch_shown='' _credwatch_stamp='' _credwatch_cmds=() _credwatch_texts=()
    return 0
  fi
  local now=${EPOCHSECONDS:-0} pid until stamp message
  _credwatch_read $_credwatch_dir/prompt
  if (( pid != 0 )) && [[ -d /proc/$pid ]] && (( until == 0 || now < until )); then
    typeset -g CREDWATCH_DAEMON=1
    _credwatch_daemon_seen=1
    _credwatch_stamp=$stamp _credwatch_pid=$pid _credwatch_until=$until
    (( until )) || _credwatch_until=99999999999
  else
    typeset -g CREDWATCH_DAEMON=0
    _credwatch_stamp=''
    if [[ -n $_credwatch_daemon_seen ]]; then
      _credwatch_daemon_seen=''
      print -ru2 -- "credwatch: the watchdog stopped; checking directly every ${CREDWATCH_INTERVAL:-30}s until it runs again"
    fi
    if (( now >= _credwatch_next_check )) && [[ -x $_credwatch_bin ]]; then
      _credwatch_next_check=$(( now + ${CREDWATCH_INTERVAL:-30} ))
      _credwatch_check_detached
    fi
    _credwatch_read $_credwatch_dir/prompt.direct
  fi
  typeset -g CREDWATCH_PROMPT=$message
  if [[ $message != "$_credwatch_shown" ]]; then
    _credwatch_shown=$message
    [[ -n $message ]] && print -ru2 -- "credwatch: $message — run: credwatch status"
  fi
  return 0
}

_credwatch_check_detached() {
  emulate -L zsh
  local autostart=${CREDWATCH_AUTOSTART-}
  if [[ -z $autostart ]]; then
    autostart=1
    [[ -S ${XDG_RUNTIME_DIR-}/systemd/private ]] && autostart=0
  fi
  if [[ $autostart == 1 ]]; then
    ( "$_credwatch_bin" daemon >/dev/null 2>&1 </dev/null & )
  fi
  ( "$_credwatch_bin" prompt --cache >/dev/null 2>&1 </dev/null & )
}

# Every prompt: one test (two stats), written to be safe under any user options (no `emulate`,
# which costs more than the test). The rest runs when the state changed.
_credwatch_precmd() {
  [[ ${CREDWATCH_DISABLE-} != 1 && -e $_credwatch_dir/prompt.$_credwatch_stamp &&
    -d /proc/$_credwatch_pid ]] || _credwatch_refresh
  return 0
}

# Prints the warning for a command line about to run, if it uses a broken credential. With
# CREDWATCH_CONFIRM=1 it then asks whether to run it; "no" cancels the line as Ctrl-C would.
_credwatch_preexec() {
  emulate -L zsh
  local line=${1-} i
  [[ ${CREDWATCH_DISABLE-} == 1 ]] && return 0
  # Per command, not per prompt: the clock, and a change while the prompt waited (it may have
  # been drawn hours ago), so the warning below is about the state now.
  if (( ${EPOCHSECONDS:-0} >= _credwatch_until )) ||
    [[ ! -e $_credwatch_dir/prompt.$_credwatch_stamp || ! -d /proc/$_credwatch_pid ]]; then
    _credwatch_refresh
  fi
  line=${line##[[:space:]]#}
  for (( i = 1; i <= ${#_credwatch_cmds}; i++ )); do
    if [[ $line == "${_credwatch_cmds[i]}" || $line == "${_credwatch_cmds[i]} "* ]]; then
      print -ru2 -- "${_credwatch_texts[i]}"
      if [[ ${CREDWATCH_CONFIRM-} == 1 ]] && ! _credwatch_confirm; then
        kill -INT $$
      fi
      return 0
    fi
  done
  return 0
}

# Asks on the terminal; true for y or Y. Without a terminal to ask, the command runs.
_credwatch_confirm() {
  emulate -L zsh
  local reply=''
  [[ -t 0 ]] || return 0
  print -nu2 -- 'credwatch: run it anyway? [y/N] '
  read -k 1 -r reply || reply=''
  [[ $reply == $'\n' ]] || print -u2
  [[ $reply == [yY] ]]
}

if [[ -o interactive ]]; then
  export CREDWATCH_HOOK="zsh $$"  # tells `credwatch doctor` that this shell runs the hook
  autoload -Uz add-zsh-hook
  add-zsh-hook precmd _credwatch_precmd
  add-zsh-hook preexec _credwatch_preexec
fi
