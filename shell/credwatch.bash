# shellcheck shell=bash
# credwatch prompt hook for bash, printed by `credwatch init bash`.
# Use: eval "$(credwatch init bash)" in ~/.bashrc.
#
# Per prompt it starts no process: it reads the daemon's one-line state file with `read` and
# compares times with $EPOCHSECONDS. It shows broken logins in $CREDWATCH_PROMPT (for your PS1
# or prompt framework; it never rewrites PS1) and prints one line on stderr when that changes.
# Before a command mapped to a broken credential it prints what is wrong and the fix.
# CREDWATCH_DISABLE=1 turns it off. CREDWATCH_INTERVAL (seconds, default 30) spaces the direct
# checks made while no daemon runs; CREDWATCH_AUTOSTART=0/1 controls starting the daemon
# (default: start it when no systemd user manager runs).

# The values below are filled in by `credwatch init`.
_credwatch_bin=@CREDWATCH_BIN@
_credwatch_dir=@CREDWATCH_RUNTIME_DIR@

_credwatch_cmds=()
_credwatch_texts=()
_credwatch_shown=
_credwatch_next_check=0
_credwatch_daemon_seen=
_credwatch_last_line=
_credwatch_last_until=0

# Reads the state; sets CREDWATCH_PROMPT, CREDWATCH_DAEMON and the pre-command warnings.
# Steady state (daemon alive, all well): one `read` of a one-line file and one stat of /proc.
_credwatch_refresh() {
  local now=${EPOCHSECONDS-} line=${1-} pid='' until='' message='' cmd text file=$_credwatch_dir/prompt
  _credwatch_last_line=$line
  pid=${line%% *} until=${line#* } message=
  [[ $until == *' '* ]] && message=${until#* }
  until=${until%% *}
  _credwatch_last_until=${until:-0}
  [[ -z ${until//[0-9]/} ]] || _credwatch_last_until=0
  # Digits only (checked without a regex, which would clobber the user's BASH_REMATCH).
  if [[ -n $pid && -z ${pid//[0-9]/} && $pid != 0 && -n $until && -z ${until//[0-9]/} && -d /proc/$pid ]] &&
    { ((until == 0)) || { [[ -n $now ]] || printf -v now '%(%s)T' -1; ((now < until)); }; }; then
    # shellcheck disable=SC2034 # read by the user's prompt
    CREDWATCH_DAEMON=1
    _credwatch_daemon_seen=1
  else
    # shellcheck disable=SC2034 # read by the user's prompt
    CREDWATCH_DAEMON=0
    [[ -n $now ]] || printf -v now '%(%s)T' -1
    if [[ -n $_credwatch_daemon_seen ]]; then
      _credwatch_daemon_seen=
      printf 'credwatch: the watchdog stopped; checking directly every %ss until it runs again\n' "${CREDWATCH_INTERVAL:-30}" >&2
    fi
    if ((now >= _credwatch_next_check)) && [[ -x $_credwatch_bin ]]; then
      _credwatch_next_check=$((now + ${CREDWATCH_INTERVAL:-30}))
      _credwatch_check_detached
    fi
    _credwatch_last_line=
    file=$_credwatch_dir/prompt.direct
    message=
    { IFS=' ' read -r pid until message; } 2>/dev/null <"$file"
  fi
  # Warning lines exist only when something is broken, that is when the message is not empty.
  if ((${#_credwatch_cmds[@]})); then
    _credwatch_cmds=()
    _credwatch_texts=()
  fi
  if [[ -n $message ]]; then
    {
      read -r _
      while IFS=$'\t' read -r cmd text; do
        _credwatch_cmds+=("$cmd")
        _credwatch_texts+=("$text")
      done
    } 2>/dev/null <"$file"
  fi
  # shellcheck disable=SC2034 # read by the user's prompt
  CREDWATCH_PROMPT=$message
  if [[ $message != "$_credwatch_shown" ]]; then
    _credwatch_shown=$message
    [[ -n $message ]] && printf 'credwatch: %s — run: credwatch status\n' "$message" >&2
  fi
}

# One direct check, fully detached (no job lines); starts the daemon instead when asked to.
_credwatch_check_detached() {
  local autostart=${CREDWATCH_AUTOSTART-}
  if [[ -z $autostart ]]; then
    autostart=1
    [[ -S ${XDG_RUNTIME_DIR-}/systemd/private ]] && autostart=0
  fi
  if [[ $autostart == 1 ]]; then
    ("$_credwatch_bin" daemon >/dev/null 2>&1 </dev/null &)
  fi
  ("$_credwatch_bin" prompt --cache >/dev/null 2>&1 </dev/null &)
}

_credwatch_precmd() {
  local status=$? line=
  if [[ ${CREDWATCH_DISABLE-} != 1 ]]; then
    # Fast path, every prompt: one read, one comparison, one stat. The rest runs on a change.
    # (2>&- closes stderr for the read: a missing file fails silently, and no file is opened.)
    { read -r line; } 2>&- <"$_credwatch_dir/prompt"
    if [[ -z $line || $line != "$_credwatch_last_line" || ! -d /proc/${line%% *} ]] ||
      ((_credwatch_last_until && ${EPOCHSECONDS:-0} >= _credwatch_last_until)); then
      _credwatch_on_change "$line"
    fi
  fi
  # Returning non-zero would end a `set -e` shell.
  [[ $- == *e* ]] && return 0
  return "$status"
}

_credwatch_on_change() {
  _credwatch_refresh "$1"
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    # bash-preexec loaded after this hook: join its preexec functions.
    [[ " ${preexec_functions[*]-} " == *" _credwatch_preexec "* ]] || preexec_functions+=(_credwatch_preexec)
  elif ((${#_credwatch_cmds[@]})) || [[ -n $_credwatch_trap_installed ]]; then
    _credwatch_arm_debug_trap
  fi
}

# Prints the warning for a command line about to run, if it uses a broken credential.
_credwatch_preexec() {
  local line=${1-} i
  [[ ${CREDWATCH_DISABLE-} == 1 || ${#_credwatch_cmds[@]} == 0 ]] && return 0
  line=${line#"${line%%[![:space:]]*}"}
  for i in "${!_credwatch_cmds[@]}"; do
    if [[ $line == "${_credwatch_cmds[i]}" || $line == "${_credwatch_cmds[i]} "* ]]; then
      printf '%s\n' "${_credwatch_texts[i]}" >&2
      return 0
    fi
  done
  return 0
}

# Without bash-preexec: a DEBUG trap, installed only while there is a warning to give (so the
# steady state costs nothing), chained after the user's own trap, armed by PS0 for the first
# command of each line.
_credwatch_user_debug_trap=
_credwatch_trap_installed=
_credwatch_armed=
_credwatch_arm_debug_trap() {
  [[ -n ${bash_preexec_imported-}${__bp_imported-} ]] && return 0
  if ((${#_credwatch_cmds[@]})); then
    if [[ -z $_credwatch_trap_installed ]]; then
      _credwatch_user_debug_trap=$(trap -p DEBUG)
      _credwatch_user_debug_trap=${_credwatch_user_debug_trap#"trap -- '"}
      _credwatch_user_debug_trap=${_credwatch_user_debug_trap%"' DEBUG"}
      trap '_credwatch_debug; '"$_credwatch_user_debug_trap" DEBUG
      _credwatch_trap_installed=1
      # shellcheck disable=SC2016 # expanded by bash when it shows PS0, with no subshell
      # (The parameter must be set: bash skips the offset of an unset one.)
      [[ ${PS0-} == *_credwatch_armed* ]] || PS0=${PS0-}'${_credwatch_bin:$((_credwatch_armed=1)):0}'
    fi
  elif [[ -n $_credwatch_trap_installed ]]; then
    if [[ -n $_credwatch_user_debug_trap ]]; then
      trap -- "$_credwatch_user_debug_trap" DEBUG
    else
      trap - DEBUG
    fi
    _credwatch_trap_installed=
  fi
}

_credwatch_debug() {
  [[ -n $_credwatch_armed ]] || return 0
  _credwatch_armed=
  _credwatch_preexec "$BASH_COMMAND"
}

# Installs the hook once, whatever PROMPT_COMMAND is (unset, a string, an array).
_credwatch_install() {
  # Tells `credwatch doctor` that this shell runs the hook.
  export CREDWATCH_HOOK="bash $$"
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    [[ " ${precmd_functions[*]-} " == *" _credwatch_precmd "* ]] || precmd_functions+=(_credwatch_precmd)
    [[ " ${preexec_functions[*]-} " == *" _credwatch_preexec "* ]] || preexec_functions+=(_credwatch_preexec)
    return 0
  fi
  # First in line, so it sees the command's real $? and hands it on unchanged.
  local entry
  for entry in "${PROMPT_COMMAND[@]-}"; do
    [[ $entry == *_credwatch_precmd* ]] && return 0
  done
  if [[ -n ${PROMPT_COMMAND+set} && ${PROMPT_COMMAND@a} == *a* ]]; then
    PROMPT_COMMAND=(_credwatch_precmd "${PROMPT_COMMAND[@]}")
  elif [[ -n ${PROMPT_COMMAND-} ]]; then
    PROMPT_COMMAND=$'_credwatch_precmd\n'$PROMPT_COMMAND
  else
    PROMPT_COMMAND=_credwatch_precmd
  fi
}

[[ $- == *i* ]] && _credwatch_install
