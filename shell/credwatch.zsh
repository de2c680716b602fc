# credwatch prompt hook for zsh, printed by `credwatch init zsh`.
# Use: eval "$(credwatch init zsh)" in ~/.zshrc.
#
# Per prompt it starts no process and opens no file: while the daemon runs and nothing changed,
# it stats the marker of the state it last read and the daemon's /proc entry; it reads the
# daemon's state file only when that changed. Before each command it compares $EPOCHSECONDS
# (zsh/datetime) with the state's deadline and checks the marker again. Broken logins show in
# $CREDWATCH_PROMPT (exported, for your prompt or a framework that renders in a child process;
# PROMPT is never rewritten), with one line on stderr when that changes, and a warning before
# each command of a line that uses a broken login (with CREDWATCH_CONFIRM=1, a question whether
# to run it). Its precmd function runs before the prompt frameworks' (after direnv's, which
# changes the environment), whatever the load order, so a prompt shows the state at that
# prompt; what it has to say is printed after every precmd function ran, just before the
# prompt (so nothing is printed while .zshrc runs, nor inside powerlevel10k's instant prompt).
# CREDWATCH_DISABLE=1 turns it off; CREDWATCH_INTERVAL and CREDWATCH_AUTOSTART work as in the
# bash hook. As there, when a variable that selects a login (KUBECONFIG, AWS_PROFILE, ...)
# changed since the last prompt, the hook hands this shell's context to the daemon (a shadowing
# variable such as GH_TOKEN only as set or not) and reads the prompt file kept for this shell.

typeset -g _credwatch_bin=@CREDWATCH_BIN@
typeset -g _credwatch_dir=@CREDWATCH_RUNTIME_DIR@
# The variables whose values select a login, and those that shadow one.
typeset -ga _credwatch_selects=(@CREDWATCH_SELECTS@) _credwatch_shadows=(@CREDWATCH_SHADOWS@)
# The values that leave a shadowing variable off (looked up lowercased; anything else non-empty
# turns it on), as credwatch itself reads them.
typeset -gA _credwatch_off
_credwatch_off=(@CREDWATCH_OFF_TABLE@)
typeset -ga _credwatch_cmds _credwatch_texts
typeset -g _credwatch_shown='' _credwatch_daemon_seen=''
typeset -gi _credwatch_next_check=0
# The state last read: the marker that exists while it is current ($_credwatch_dir/prompt.STAMP,
# or shell/PID.STAMP for this shell's own; `prompt.`, which never exists: read again at the next
# prompt), the daemon's pid and the deadline.
typeset -g _credwatch_marker=$_credwatch_dir/prompt.
# This shell's context as last handed to the daemon, its generation, and how many prompts have
# waited for the daemon's answer.
typeset -g _credwatch_context=- _credwatch_generation=''
typeset -gi _credwatch_waited=0
# Whether a command ran since the last prompt (set by preexec): only a command changes a
# variable, so only then is the context compared.
typeset -gi _credwatch_ran=1
typeset -gi _credwatch_pid=0 _credwatch_until=0
# precmd_functions as the hook last placed itself in it: any change is looked at.
typeset -g _credwatch_order=''
# Lines to print just before the prompt.
typeset -ga _credwatch_pending
typeset -gx CREDWATCH_PROMPT CREDWATCH_DAEMON
# Without zsh/datetime the clock reads 0 (the state is then read again only when it changes, and
# at the prompts after a command), and `set -u` finds it set.
zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || typeset -gi EPOCHSECONDS=0
typeset -g _credwatch_sched='' _credwatch_pattern=''
zmodload zsh/sched 2>/dev/null && _credwatch_sched=1

# Reads one prompt file into the caller's pid, until, stamp and message, and its warning lines
# into the arrays. With a second argument, the file is a shell's own and has the generation it
# answers after the stamp (into the caller's `generation`).
_credwatch_read() {
  local cmd text
  pid='' until='' stamp='' message='' generation=''
  _credwatch_cmds=() _credwatch_texts=()
  # Only a regular file of ours, not a link, in a directory of ours: a state another user
  # planted (/tmp/credwatch-UID made by them) or a FIFO is never read.
  if [[ -f $1 && ! -L $1 && -O $1 && -O ${1:h} && ! -L ${1:h} ]]; then
    {
      if [[ -n ${2-} ]]; then
        IFS=' ' read -r pid until stamp generation message
      else
        IFS=' ' read -r pid until stamp message
      fi
      # Warning lines: a broken login's commands, and long commands a login would not outlast
      # (then the message may be empty).
      while IFS=$'\t' read -r cmd text; do
        _credwatch_cmds+=("$cmd")
        # The last step before the terminal: no control character of the file reaches it.
        _credwatch_texts+=("${text//[[:cntrl:]]/?}")
      done
    } <$1
  fi
  # The pattern a command line must match for preexec to look at it: the first word of each
  # command warned about (not of the `!` ones, which only exempt), quoted for a pattern; empty
  # (only an empty line matches) when there is none. Several are alternatives, `(a|b)`, which
  # the option sh_glob turns off: then every line is looked at.
  local -a words
  for cmd in $_credwatch_cmds; do
    [[ $cmd == '!'* ]] || words+=("*${(b)${cmd%% *}}*")
  done
  if (( $#words < 2 )); then
    _credwatch_pattern=${words[1]-}
  elif [[ -o sh_glob ]]; then
    _credwatch_pattern='*'
  else
    _credwatch_pattern="(${(j:|:)words})"
  fi
  message=${message//[[:cntrl:]]/?}
  [[ -n $pid && -z ${pid//[0-9]/} ]] && pid=$(( 10#$pid )) || pid=0
  [[ -n $until && -z ${until//[0-9]/} ]] && until=$(( 10#$until )) || until=0
  [[ -n $stamp && -z ${stamp//[0-9.]/} ]] || stamp=''
  [[ -z ${generation//[0-9]/} ]] || generation=''
}

# Hands this shell's context to the daemon when it changed since it was last handed over, or
# when the daemon lost it (a new runtime dir): one file written with printf, a builtin. A
# variable counts only when exported (what a command sees).
_credwatch_send_context() {
  emulate -L zsh
  local context="@CREDWATCH_CONTEXT@" name value
  local -a records
  [[ $context != "$_credwatch_context" || ! -e $_credwatch_dir/context/$$ ]] || return 0
  # Kept even when it cannot be handed over (no daemon made the directory yet): the comparison
  # after each command then holds, and the missing file sends it once the directory exists.
  _credwatch_context=$context
  [[ -d $_credwatch_dir/context && -O $_credwatch_dir/context && ! -L $_credwatch_dir/context ]] || return 0
  _credwatch_generation=$RANDOM$RANDOM$RANDOM _credwatch_waited=0
  for name in $_credwatch_selects; do
    if [[ ${(Pt)name} == *export* ]]; then
      records+=("$name=${(P)name}")
    else
      records+=("$name")
    fi
  done
  for name in $_credwatch_shadows; do
    value=''
    [[ ${(Pt)name} != *export* ]] || value=${(L)${(P)name}}
    case $value in
      ('' | @CREDWATCH_OFF_CASE@) records+=("$name") ;;
      (*) records+=("$name=1") ;;
    esac
  done
  printf '%s\0' "$_credwatch_generation" "${records[@]}" end 2>&- >$_credwatch_dir/context/$$ || :
}

_credwatch_refresh() {
  emulate -L zsh
  if [[ ${CREDWATCH_DISABLE-} == 1 ]]; then
    CREDWATCH_PROMPT='' CREDWATCH_DAEMON=''
    _credwatch_shown='' _credwatch_marker=$_credwatch_dir/prompt. _credwatch_cmds=() _credwatch_texts=()
    return 0
  fi
  local now=${EPOCHSECONDS:-0} pid until stamp message generation
  integer live=0
  _credwatch_send_context
  # This shell's own answer first: when it answers the context handed over, it is the one file
  # read.
  [[ -z $_credwatch_generation ]] || _credwatch_read $_credwatch_dir/shell/$$ generation
  if [[ -n $_credwatch_generation && $generation == "$_credwatch_generation" ]] && _credwatch_holds; then
    live=1 _credwatch_marker=$_credwatch_dir/shell/$$.$stamp
  else
    _credwatch_read $_credwatch_dir/prompt
    if _credwatch_holds; then
      live=1 _credwatch_marker=$_credwatch_dir/prompt.$stamp
      # Not answered yet: the daemon's own view, read again at the next prompts (three), then
      # before the next command at least 5 s on (a slow answer is picked up; a daemon that does
      # not keep contexts never answers, and costs a read now and then).
      if [[ -n $_credwatch_generation ]]; then
        if (( _credwatch_waited++ < 3 )); then
          _credwatch_marker=$_credwatch_dir/prompt.
        elif (( until == 0 || until > now + 5 )); then
          until=$(( now + 5 ))
        fi
      fi
    fi
  fi
  if (( live )); then
    CREDWATCH_DAEMON=1
    _credwatch_daemon_seen=1
    _credwatch_pid=$pid _credwatch_until=$until
    (( until )) || _credwatch_until=99999999999
  else
    CREDWATCH_DAEMON=0
    _credwatch_marker=$_credwatch_dir/prompt.
    if [[ -n $_credwatch_daemon_seen ]]; then
      _credwatch_daemon_seen=''
      if [[ -x $_credwatch_bin ]]; then
        _credwatch_say "credwatch: the watchdog stopped; checking directly every ${CREDWATCH_INTERVAL:-30}s until it runs again"
      else
        _credwatch_say "credwatch: $_credwatch_bin is gone (uninstalled?): this hook does nothing more; remove its line from your shell startup file"
      fi
    fi
    if (( now >= _credwatch_next_check )) && [[ -x $_credwatch_bin ]]; then
      _credwatch_next_check=$(( now + ${CREDWATCH_INTERVAL:-30} ))
      _credwatch_check_detached
    fi
    _credwatch_read $_credwatch_dir/shell/$$.direct
  fi
  # The flag in this shell's locale (the daemon's is not the shell's).
  case ${LC_ALL:-${LC_CTYPE:-${LANG-}}} in
    (*[Uu][Tt][Ff]-8* | *[Uu][Tt][Ff]8*) ;;
    (*) message=${message//⚠/!} ;;
  esac
  CREDWATCH_PROMPT=$message
  if [[ $message != "$_credwatch_shown" ]]; then
    _credwatch_shown=$message
    [[ -z $message ]] || _credwatch_say "credwatch: $message — run: credwatch status"
  fi
  return 0
}

# Prints a line just before the prompt, after every precmd function (sched +0 runs then), or at
# once where zsh/sched is missing.
# Whether the state just read (the caller's pid, until and now) is a live daemon's that still
# holds.
_credwatch_holds() {
  (( pid != 0 )) && [[ -d /proc/$pid ]] && (( until == 0 || now < until ))
}

_credwatch_say() {
  if [[ -n $_credwatch_sched ]]; then
    (( $#_credwatch_pending )) || sched +0 _credwatch_say_pending
    _credwatch_pending+=("$1")
  else
    print -ru2 -- "$1"
  fi
}

_credwatch_say_pending() {
  emulate -L zsh
  local text
  for text in $_credwatch_pending; do
    print -ru2 -- "$text"
  done
  _credwatch_pending=()
}

_credwatch_check_detached() {
  emulate -L zsh
  local autostart=${CREDWATCH_AUTOSTART-}
  if [[ -z $autostart ]]; then
    autostart=1
    [[ ! -S ${XDG_RUNTIME_DIR-}/systemd/private ]] || autostart=0
  fi
  if [[ $autostart == 1 ]]; then
    ( "$_credwatch_bin" daemon >/dev/null 2>&1 </dev/null & )
  fi
  ( "$_credwatch_bin" prompt --cache --shell $$ >/dev/null 2>&1 </dev/null & )
}

# Every prompt: one test (two stats), written to be safe under any user options (no `emulate`,
# which costs more than the test). After a command (preexec says so) also this shell's
# variables, since only a command changes them (CREDWATCH_DISABLE among them), in two steps.
# First, when no shadowing variable is set and `set -u` and `set -x` are off (xtrace would print
# the plain values, a token among them), the selecting variables' values (and
# CREDWATCH_DISABLE's) with plain expansions, the form that costs zsh least, against
# _credwatch_quick, which ends with `-` when a shadowing variable was set as it was recorded
# (this text never does). Otherwise, the whole context (whether each shadowing variable turns
# its login's override on). One function: in zsh each call maps and unmaps a heap of its own
# and masks signals three times, which costs more than all its tests. The rest runs when the
# state changed, and at the first prompts: it also checks the hook's place in precmd_functions,
# which only matters at a prompt where the state changes, and which prompt frameworks change
# while .zshrc runs or at the first prompt.
# shellcheck disable=SC2050 # the contexts are expansions once `credwatch init` filled them in
_credwatch_precmd() {
  if [[ $_credwatch_ran == 0 ]]; then
    [[ -e $_credwatch_marker && -d /proc/$_credwatch_pid ]] || _credwatch_on_change || :
  else
    _credwatch_ran=0
    [[ -e $_credwatch_marker && -d /proc/$_credwatch_pid ]] && {
      [[ $- != *[ux]*@CREDWATCH_NO_SHADOW_SET@ && "$CREDWATCH_DISABLE:@CREDWATCH_QUICK_SELECTS@" == "$_credwatch_quick" ]] ||
        [[ ${CREDWATCH_DISABLE-} == "$_credwatch_disable" && "@CREDWATCH_CONTEXT@" == "$_credwatch_context" ]]
    } || _credwatch_on_change || :
  fi
}
typeset -g _credwatch_quick=- _credwatch_disable=''

# Prompts left at which the hook checks its place whatever happens.
typeset -gi _credwatch_settle=3
_credwatch_on_change() {
  _credwatch_quick="${CREDWATCH_DISABLE-}:@CREDWATCH_QUICK_SELECTS_SAFE@" _credwatch_disable=${CREDWATCH_DISABLE-}
  [[ -z "@CREDWATCH_SHADOWS_SET@" ]] || _credwatch_quick+=-
  [[ "${precmd_functions[*]}" == "$_credwatch_order" ]] || _credwatch_place
  if [[ ${CREDWATCH_DISABLE-} == 1 || ! -e $_credwatch_marker ||
    ! -d /proc/$_credwatch_pid || "@CREDWATCH_CONTEXT@" != "$_credwatch_context" ]]; then
    _credwatch_refresh
  fi
  if (( _credwatch_settle > 0 )); then
    # The next prompt comes this way again (pid 0 never runs).
    (( _credwatch_settle-- , _credwatch_pid = 0 ))
  fi
  return 0
}

# Puts the hook first in precmd_functions, after the functions that must run before it:
# direnv's (it changes the environment) and powerlevel10k's no-op and instant-prompt ones (it
# keeps them first). So a framework that builds its prompt in a precmd function sees this
# prompt's state.
_credwatch_place() {
  emulate -L zsh
  local -a rest=(${precmd_functions:#_credwatch_precmd}) first=()
  while (( $#rest )) && [[ $rest[1] == (_direnv_hook|_p9k_do_nothing|_p9k_instant_prompt_precmd_first) ]]; do
    first+=($rest[1])
    shift rest
  done
  precmd_functions=($first _credwatch_precmd $rest)
  _credwatch_order="${precmd_functions[*]}"
}

# Gives the command that a part of a command line runs, in the caller's `part`: without
# leading blanks, assignments (NAME=value), the words that run what follows them (command, env,
# exec, nohup, nice, time, timeout, ionice, stdbuf, keywords), their options and the arguments
# of those (`nice -n 10`, `timeout 5`, `env -u NAME`), and a directory (/usr/bin/gh). sudo runs
# what follows as the user only with `-u` naming the user; otherwise what it runs uses root's
# logins, and the part is left empty.
_credwatch_command_part() {
  emulate -L zsh
  setopt extended_glob
  local word wrapper='' takes='' self=${USER-}
  while :; do
    part=${part##[[:space:]]#}
    word=${part%%[[:space:]]*}
    [[ -n $word ]] || break
    if [[ -n $takes ]]; then
      # The argument of the option before it (sudo -u: the user's name, or $USER as typed).
      if [[ $takes == sudo-user ]]; then
        [[ $word == "$self" || $word == '$USER' || $word == '${USER}' ]] || { part=''; return 0 }
        wrapper=sudo-self
      fi
      takes=''
    else
      case $wrapper:$word in
        (*:(command|builtin|env|exec|nohup|nice|time|timeout|ionice|stdbuf|noglob|nocorrect|then|do|else|elif|if|while|until|'!')) wrapper=$word ;;
        (*:sudo) wrapper=sudo ;;
        (sudo:-u|sudo-self:-u) takes=sudo-user ;;
        (nice:-n|ionice:-[cnp]|env:-[uCS]|timeout:-[sk]|sudo*:-[ghpCDrtU]|exec:-a|time:-[fo])) takes=1 ;;
        (*:-*) ;;
        (timeout:[0-9]*) wrapper=timeout-done ;;
        (*:[A-Za-z_]*=*) [[ ${word%%=*} != *[^A-Za-z0-9_]* ]] || break ;;
        (*) break ;;
      esac
    fi
    part=${part:$#word}
  done
  # sudo without `-u` naming the user: root's logins.
  [[ $wrapper != sudo ]] || part=''
  [[ $word != */* ]] || part=${part:$(( ${#word%/*} + 1 ))}
}

# Whether the part (its words in the caller's `words`) runs command $1: its first word, then
# each further word of $1 among the part's later words (`git -C /tmp fetch` runs `git fetch`).
_credwatch_runs() {
  emulate -L zsh
  local -a want=(${(z)1})
  local w i=2
  [[ ${words[1]-} == "${want[1]-}" ]] || return 1
  for w in "${(@)words[2,-1]}"; do
    (( i <= $#want )) || break
    [[ $w != "$want[i]" ]] || (( i++ ))
  done
  (( i > $#want ))
}

# Before each command line: the state is checked (per command, not per prompt: the clock, and a
# publication while the prompt waited, which may have been drawn hours ago; a daemon that died
# meanwhile is found at the next prompt), so the warning is about the state now. Written, like
# _credwatch_precmd, to be safe under any user options (no `emulate`, which costs more than the
# rest), and with no builtin command: in zsh each one, `local` and `return` among them, costs a
# system call (sigprocmask), and it runs after every command line. It calls another function only
# when the state changed or the line names a watched command (one pattern test, see
# _credwatch_read).
_credwatch_preexec() {
  _credwatch_ran=1
  [[ -e $_credwatch_marker ]] && (( EPOCHSECONDS < _credwatch_until )) || [[ ${CREDWATCH_DISABLE-} == 1 ]] ||
    { _credwatch_refresh; _credwatch_say_pending }
  [[ ${CREDWATCH_DISABLE-} == 1 || ${3:-${1-}} != $~_credwatch_pattern ]] || _credwatch_warn_line "$@"
}

# Prints the warning for each command of a command line that uses a broken login, once per
# warning. With CREDWATCH_CONFIRM=1 it then asks whether to run the line; "no" cancels it as
# Ctrl-C would.
_credwatch_warn_line() {
  emulate -L zsh
  local line=${3:-${1-}} part i warned='' nl=$'\n' cmd
  # Split at ; & | ( ) { } ` and newlines: each part starts a command (a separator inside quotes
  # only adds a part).
  local -a words
  local exempt
  for part in "${(@f)${line//[;&|(){\}\`]/$nl}}"; do
    _credwatch_command_part
    [[ -n $part ]] || continue
    words=(${(z)part})
    # A command that makes the login (`!gh auth login` in the state): no warning before it.
    exempt=0
    for cmd in "${_credwatch_cmds[@]}"; do
      [[ $cmd != '!'* ]] || ! _credwatch_runs "${cmd#!}" || { exempt=1; break }
    done
    (( exempt == 0 )) || continue
    for (( i = 1; i <= $#_credwatch_cmds; i++ )); do
      [[ $_credwatch_cmds[i] != '!'* ]] || continue
      if _credwatch_runs "$_credwatch_cmds[i]" &&
        [[ $warned != *$'\n'"$_credwatch_texts[i]"$'\n'* ]]; then
        print -ru2 -- "$_credwatch_texts[i]"
        warned+=$'\n'$_credwatch_texts[i]$'\n'
      fi
    done
  done
  if [[ -n $warned && ${CREDWATCH_CONFIRM-} == 1 ]] && ! _credwatch_confirm; then
    kill -INT $$
  fi
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
  _credwatch_place
fi
