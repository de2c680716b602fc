# credwatch prompt hook for zsh, printed by `credwatch init zsh`.
# Use: eval "$(credwatch init zsh)" in ~/.zshrc.
#
# Per prompt it starts no process: it reads the daemon's one-line state file with `read` and
# compares times with $EPOCHSECONDS (zsh/datetime). Broken logins show in $CREDWATCH_PROMPT (for
# your prompt; PROMPT is never rewritten), with one line on stderr when that changes, and a
# warning before a command that uses a broken login. CREDWATCH_DISABLE=1 turns it off;
# CREDWATCH_INTERVAL and CREDWATCH_AUTOSTART work as in the bash hook.

typeset -g _credwatch_bin=@CREDWATCH_BIN@
typeset -g _credwatch_dir=@CREDWATCH_RUNTIME_DIR@
typeset -ga _credwatch_cmds _credwatch_texts
typeset -g _credwatch_shown='' _credwatch_daemon_seen='' _credwatch_last_line=''
typeset -gi _credwatch_next_check=0 _credwatch_last_until=0
zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

_credwatch_refresh() {
  emulate -L zsh
  local now=${EPOCHSECONDS:-0} line=${1-} pid='' until='' message='' cmd text file=$_credwatch_dir/prompt
  _credwatch_last_line=$line
  pid=${line%% *} until=${line#* } message=''
  [[ $until == *' '* ]] && message=${until#* }
  until=${until%% *}
  _credwatch_last_until=0
  [[ -n $until && -z ${until//[0-9]/} ]] && _credwatch_last_until=$until
  if [[ -n $pid && -z ${pid//[0-9]/} && $pid != 0 && -d /proc/$pid ]] &&
    (( _credwatch_last_until == 0 || now < _credwatch_last_until )); then
    typeset -g CREDWATCH_DAEMON=1
    _credwatch_daemon_seen=1
  else
    typeset -g CREDWATCH_DAEMON=0
    _credwatch_last_line=''
    if [[ -n $_credwatch_daemon_seen ]]; then
      _credwatch_daemon_seen=''
      print -ru2 -- "credwatch: the watchdog stopped; checking directly every ${CREDWATCH_INTERVAL:-30}s until it runs again"
    fi
    if (( now >= _credwatch_next_check )) && [[ -x $_credwatch_bin ]]; then
      _credwatch_next_check=$(( now + ${CREDWATCH_INTERVAL:-30} ))
      _credwatch_check_detached
    fi
    file=$_credwatch_dir/prompt.direct
    message=''
    [[ -r $file ]] && { IFS=' ' read -r pid until message } <$file
  fi
  # Warning lines exist only when something is broken, that is when the message is not empty.
  (( ${#_credwatch_cmds} )) && { _credwatch_cmds=(); _credwatch_texts=() }
  if [[ -n $message && -r $file ]]; then
    {
      read -r _
      while IFS=$'\t' read -r cmd text; do
        _credwatch_cmds+=("$cmd")
        _credwatch_texts+=("$text")
      done
    } <$file
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

# Fast path, every prompt: one read, one comparison, one stat (written to be safe under any
# user options, so no `emulate` is needed here). The rest runs when the line changes.
_credwatch_precmd() {
  local line=''
  if [[ ${CREDWATCH_DISABLE-} != 1 ]]; then
    [[ -r $_credwatch_dir/prompt ]] && { read -r line } <$_credwatch_dir/prompt
    if [[ -z $line || $line != "$_credwatch_last_line" || ! -d /proc/${line%% *} ]] ||
      (( _credwatch_last_until && ${EPOCHSECONDS:-0} >= _credwatch_last_until )); then
      _credwatch_refresh "$line"
    fi
  fi
  return 0
}

_credwatch_preexec() {
  emulate -L zsh
  local line=${1-} i
  [[ ${CREDWATCH_DISABLE-} == 1 ]] && return 0
  line=${line##[[:space:]]#}
  for (( i = 1; i <= ${#_credwatch_cmds}; i++ )); do
    if [[ $line == "${_credwatch_cmds[i]}" || $line == "${_credwatch_cmds[i]} "* ]]; then
      print -ru2 -- "${_credwatch_texts[i]}"
      return 0
    fi
  done
  return 0
}

if [[ -o interactive ]]; then
  export CREDWATCH_HOOK="zsh $$"  # tells `credwatch doctor` that this shell runs the hook
  autoload -Uz add-zsh-hook
  add-zsh-hook precmd _credwatch_precmd
  add-zsh-hook preexec _credwatch_preexec
fi
