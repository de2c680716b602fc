# shellcheck shell=bash
# credwatch prompt hook for bash, printed by `credwatch init bash`.
# Use: eval "$(credwatch init bash)" in ~/.bashrc.
#
# Per prompt it starts no process and opens no file: while the daemon runs and nothing changed,
# it stats the marker of the state it last read and the daemon's /proc entry. It reads the
# daemon's state file (with `read`) only when that changed, and compares $EPOCHSECONDS with the
# state's deadline once per command line run (from PS0). It shows broken logins in
# $CREDWATCH_PROMPT (for your PS1 or prompt framework; it never rewrites PS1) and prints one
# line on stderr when that changes. Before a command mapped to a broken credential it prints
# what is wrong and the fix, and with CREDWATCH_CONFIRM=1 asks whether to run it.
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
# The state last read: its stamp (the marker $_credwatch_dir/prompt.STAMP exists while it is
# current; empty: read again at the next prompt), the daemon's pid and the deadline.
_credwatch_stamp=
_credwatch_pid=0
_credwatch_until=0

# Reads one prompt file into the caller's pid, until, stamp and message, and its warning lines
# into the arrays. Digits only are accepted (checked without a regex, which would clobber the
# user's BASH_REMATCH). 2>&- closes stderr for the read: a missing file fails silently.
_credwatch_read() {
  local cmd text
  pid='' until='' stamp='' message=''
  _credwatch_cmds=()
  _credwatch_texts=()
  {
    IFS=' ' read -r pid until stamp message
    # Warning lines exist only when something is broken, that is when the message is not empty.
    if [[ -n $message ]]; then
      while IFS=$'\t' read -r cmd text; do
        _credwatch_cmds+=("$cmd")
        _credwatch_texts+=("$text")
      done
    fi
  } 2>&- <"$1"
  # (10#: a leading zero is not octal.)
  [[ -n $pid && -z ${pid//[0-9]/} ]] && pid=$((10#$pid)) || pid=0
  [[ -n $until && -z ${until//[0-9]/} ]] && until=$((10#$until)) || until=0
  [[ -n $stamp && -z ${stamp//[0-9.]/} ]] || stamp=
}

# Reads the state; sets CREDWATCH_PROMPT, CREDWATCH_DAEMON and the pre-command warnings.
_credwatch_refresh() {
  local now=${EPOCHSECONDS-} pid until stamp message
  [[ -n $now ]] || printf -v now '%(%s)T' -1
  _credwatch_read "$_credwatch_dir/prompt"
  if ((pid != 0)) && [[ -d /proc/$pid ]] && ((until == 0 || now < until)); then
    # shellcheck disable=SC2034 # read by the user's prompt
    CREDWATCH_DAEMON=1
    _credwatch_daemon_seen=1
    _credwatch_stamp=$stamp _credwatch_pid=$pid _credwatch_until=$until
    ((until)) || _credwatch_until=99999999999
  else
    # shellcheck disable=SC2034 # read by the user's prompt
    CREDWATCH_DAEMON=0
    _credwatch_stamp=
    if [[ -n $_credwatch_daemon_seen ]]; then
      _credwatch_daemon_seen=
      printf 'credwatch: the watchdog stopped; checking directly every %ss until it runs again\n' "${CREDWATCH_INTERVAL:-30}" >&2
    fi
    if ((now >= _credwatch_next_check)) && [[ -x $_credwatch_bin ]]; then
      _credwatch_next_check=$((now + ${CREDWATCH_INTERVAL:-30}))
      _credwatch_check_detached
    fi
    _credwatch_read "$_credwatch_dir/prompt.direct"
  fi
  # shellcheck disable=SC2034 # read by the user's prompt
  CREDWATCH_PROMPT=$message
  if [[ $message != "$_credwatch_shown" ]]; then
    _credwatch_shown=$message
    [[ -n $message ]] && printf 'credwatch: %s — run: credwatch status\n' "$message" >&2
  fi
  return 0
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

# Every prompt: one test (two stats). The rest runs when the state changed. Its status is not
# handed on: in an array PROMPT_COMMAND (bash >= 5.1) bash gives each element the command's own
# $?, and bash-preexec does the same for each precmd function.
_credwatch_precmd() {
  [[ ${CREDWATCH_DISABLE-} != 1 && -e $_credwatch_dir/prompt.$_credwatch_stamp &&
    -d /proc/$_credwatch_pid ]] || _credwatch_on_change
}

# bash < 5.1 (a string PROMPT_COMMAND, the hook first in it): hands $? on to what follows.
_credwatch_status=0
_credwatch_precmd_keep_status() {
  _credwatch_status=$?
  _credwatch_precmd
  # Returning non-zero would end a `set -e` shell.
  [[ $- == *e* ]] || return "$_credwatch_status"
}

_credwatch_on_change() {
  if [[ ${CREDWATCH_DISABLE-} == 1 ]]; then
    # shellcheck disable=SC2034 # read by the user's prompt
    CREDWATCH_PROMPT='' CREDWATCH_DAEMON='' _credwatch_shown='' _credwatch_stamp=''
    _credwatch_cmds=()
    _credwatch_texts=()
  else
    _credwatch_refresh
  fi
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    # bash-preexec loaded after this hook: join its preexec functions.
    [[ " ${preexec_functions[*]-} " == *" _credwatch_preexec "* ]] || preexec_functions+=(_credwatch_preexec)
  elif ((${#_credwatch_cmds[@]})) || [[ -n $_credwatch_trap_installed ]]; then
    _credwatch_arm_debug_trap
  fi
  _credwatch_armed=
  return 0
}

# Prints the warning for a command line about to run, if it uses a broken credential. With
# CREDWATCH_CONFIRM=1 it then asks whether to run it; "no" cancels the line as Ctrl-C would
# (status 130; the line stays in the history).
_credwatch_preexec() {
  local line=${1-} i
  [[ ${CREDWATCH_DISABLE-} == 1 || ${#_credwatch_cmds[@]} == 0 ]] && return 0
  line=${line#"${line%%[![:space:]]*}"}
  for i in "${!_credwatch_cmds[@]}"; do
    if [[ $line == "${_credwatch_cmds[i]}" || $line == "${_credwatch_cmds[i]} "* ]]; then
      printf '%s\n' "${_credwatch_texts[i]}" >&2
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
  local reply=''
  [[ -t 0 ]] || return 0
  printf 'credwatch: run it anyway? [y/N] ' >&2
  read -r -n 1 reply || reply=''
  [[ -z $reply ]] || printf '\n' >&2
  [[ $reply == [yY] ]]
}

# Without bash-preexec: a DEBUG trap, installed only while there is a warning to give (so the
# steady state costs nothing), chained after the user's own trap, armed by PS0 (see
# _credwatch_ps0) for the first
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

# What the hook adds to PS0, which bash expands (with no subshell) once per command line it runs,
# not for an empty line: it arms the DEBUG trap for the line's first command, and once the
# state's deadline has passed it makes the next prompt read the state again (pid 0 never
# runs). So the clock is read per command, not per prompt.
# shellcheck disable=SC2016 # expanded by bash when it shows PS0
_credwatch_ps0='${_credwatch_bin:$((_credwatch_armed = 1, ${EPOCHSECONDS:-0} >= _credwatch_until ? (_credwatch_pid = 0) : 0)):0}'

# Installs the hook once, whatever PROMPT_COMMAND is (unset, a string, an array).
_credwatch_install() {
  # Tells `credwatch doctor` that this shell runs the hook.
  export CREDWATCH_HOOK="bash $$"
  [[ ${PS0-} == *"$_credwatch_ps0"* ]] || PS0=${PS0-}$_credwatch_ps0
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    [[ " ${precmd_functions[*]-} " == *" _credwatch_precmd "* ]] || precmd_functions+=(_credwatch_precmd)
    [[ " ${preexec_functions[*]-} " == *" _credwatch_preexec "* ]] || preexec_functions+=(_credwatch_preexec)
    return 0
  fi
  local entry
  for entry in "${PROMPT_COMMAND[@]-}"; do
    [[ $entry == *_credwatch_precmd* ]] && return 0
  done
  if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
    # An element of its own, last. A string PROMPT_COMMAND (or none) becomes element 0, so
    # what other tools add to "$PROMPT_COMMAND" later lands there, not in the hook's element.
    if [[ -n ${PROMPT_COMMAND+set} && ${PROMPT_COMMAND@a} == *a* ]]; then
      PROMPT_COMMAND+=(_credwatch_precmd)
    else
      PROMPT_COMMAND=("${PROMPT_COMMAND-}" _credwatch_precmd)
    fi
  elif [[ -n ${PROMPT_COMMAND-} ]]; then
    # First in line, handing the command's $? on unchanged.
    PROMPT_COMMAND=$'_credwatch_precmd_keep_status\n'$PROMPT_COMMAND
  else
    PROMPT_COMMAND=_credwatch_precmd_keep_status
  fi
}

[[ $- == *i* ]] && _credwatch_install
