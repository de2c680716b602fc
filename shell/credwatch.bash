# shellcheck shell=bash
# credwatch prompt hook for bash, printed by `credwatch init bash`.
# Use: eval "$(credwatch init bash)" in ~/.bashrc.
#
# Per prompt it starts no process and opens no file: while the daemon runs and nothing changed,
# it stats the marker of the state it last read, and at an empty prompt the daemon's /proc entry.
# It reads the daemon's state file (with `read`) only when that changed, and at the prompt after a
# command (PS0 tells it one ran) compares $EPOCHSECONDS with the state's deadline, which is at
# most 30 s after it was read (so a daemon that died is found then). It shows broken logins in
# $CREDWATCH_PROMPT (exported, for your PS1 or a prompt framework, even one that renders in a
# child process; it never rewrites PS1) and prints one line on stderr when that changes. Before
# each command of a line that uses a broken login it prints what is wrong and the fix, and with
# CREDWATCH_CONFIRM=1 asks whether to run it. A login that breaks while the prompt waits is
# warned before the command too: the daemon wakes the shell (SIGURG, which the hook traps; bash
# runs the trap once the line is entered, before it runs), at no cost per prompt.
# It runs before the prompt frameworks that render in PROMPT_COMMAND or in bash-preexec's
# precmd_functions, whatever the load order, so a prompt shows the state at that prompt.
# No state of credwatch can end the shell: every function survives `set -euo pipefail`.
# CREDWATCH_DISABLE=1 turns it off. CREDWATCH_INTERVAL (seconds, default 30) spaces the direct
# checks made while no daemon runs; CREDWATCH_AUTOSTART=0/1 controls starting the daemon
# (default: start it when no systemd user manager runs).
# The login a command uses depends on this shell's variables (KUBECONFIG, AWS_PROFILE, GH_TOKEN,
# ...): when one of them changed since the last prompt, the hook hands their values to the
# daemon (a shadowing variable only as set or not, never its value) in one file it writes with
# a builtin, and then reads the prompt file the daemon keeps for this shell. Unchanged, it
# compares one string in memory.

# The values below are filled in by `credwatch init`.
_credwatch_bin=@CREDWATCH_BIN@
_credwatch_dir=@CREDWATCH_RUNTIME_DIR@
# The variables whose values select a login, and those that shadow one.
_credwatch_selects=(@CREDWATCH_SELECTS@)
_credwatch_shadows=(@CREDWATCH_SHADOWS@)
# The values that leave a shadowing variable off (looked up lowercased; anything else non-empty
# turns it on), as credwatch itself reads them.
# shellcheck disable=SC2190 # filled in by `credwatch init`: [0]=0 [false]=0 …
declare -gA _credwatch_off=(@CREDWATCH_OFF_TABLE@)

_credwatch_cmds=()
_credwatch_texts=()
# The pattern a command of a line must match for the hook's DEBUG trap to look at it (the first
# words of the commands warned about, `trap`, and the 101st command of a line: see
# _credwatch_trap_test; `*` while the trap is to take itself out).
# The names the prompt and the trap read at every prompt or command are short (the only names of
# the hook outside _credwatch_*): bash re-parses a trap's text, PS0 and each PROMPT_COMMAND element
# every time, copies a function's body at each call, and a name costs a few hundred instructions
# per character where it is read (callgrind). Variables: _cw_w (this pattern), _cw_n (the count),
# _cw_k (which prompt function), _cw_m (the marker), _cw_u (until), _cw_t (untouched), _cw_q (the
# variables as last compared); functions: _cw_p0 and _cw_p1 (the prompt's two paths), _cw_d (the
# trap's work).
_cw_w=
_credwatch_shown=
_credwatch_next_check=0
_credwatch_daemon_seen=
_credwatch_daemon_pid=0
# The state last read: the marker that exists while it is current ($_credwatch_dir/prompt.STAMP,
# or shell/PID.STAMP for this shell's own; `prompt.`, which never exists: read again at the next
# prompt), the daemon's pid and the deadline.
_cw_m=$_credwatch_dir/prompt.
_credwatch_pid=0
_cw_u=0
# This shell's context as last handed to the daemon (the values of the selecting variables,
# whether the shadowing ones are set, `|` between them), the generation it was given, and how
# many prompts have waited for the daemon's answer.
_credwatch_context=-
_credwatch_generation=
_credwatch_waited=0
# _cw_n: the commands run since the last prompt, counted by the hook's DEBUG trap while it is in;
# PS0 sets it to 1 for a command line, the prompt back to far below 0 (the trap's runs at later
# prompts count up from there, and it stays below 0: "no command since").
# _cw_k: which function the hook's PROMPT_COMMAND element runs, _cw_p$_cw_k: 1 after
# a command line (PS0 sets it), 0 after an empty one (so neither pays for the other's tests).
_credwatch_no_ps0=0
((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) || _credwatch_no_ps0=1
_cw_n=1 _cw_k=1
export CREDWATCH_PROMPT CREDWATCH_DAEMON

# Reads one prompt file into the caller's pid, until, stamp and message, and its warning lines
# into the arrays. Digits only are accepted (checked without a regex, which would clobber the
# user's BASH_REMATCH). 2>&- closes stderr for the read: a missing file fails silently.
# pid stays 0 (direct checks) when the file is not to be trusted.
# With a second argument, the file is a shell's own and has the generation it answers after the
# stamp (into the caller's `generation`).
_credwatch_read() {
  local cmd text
  pid='' until='' stamp='' message='' generation=''
  _credwatch_cmds=()
  _credwatch_texts=()
  # Only a regular file of ours, not a link, in a directory of ours: a state another user
  # planted (/tmp/credwatch-UID made by them) or a FIFO is never read.
  if [[ -f $1 && ! -L $1 && -O $1 && -O ${1%/*} && ! -L ${1%/*} ]]; then
    {
      if [[ -n ${2-} ]]; then
        IFS=' ' read -r pid until stamp generation message || :
      else
        IFS=' ' read -r pid until stamp message || :
      fi
      # Warning lines: a broken login's commands, and long commands a login would not outlast
      # (then the message may be empty).
      while IFS=$'\t' read -r cmd text; do
        _credwatch_cmds+=("$cmd")
        # The last step before the terminal: no control character of the file reaches it.
        _credwatch_texts+=("${text//[[:cntrl:]]/?}")
      done
    } 2>&- <"$1" || :
  fi
  message=${message//[[:cntrl:]]/?}
  # The trap's pattern: a command naming the first word of a command warned about (not of the
  # `!` ones, which only exempt; quoted for a pattern), or a `trap` command (see
  # _cw_d). (Each alternative starts with its own `*`: `*@(a|b)*` costs bash ~40,000
  # instructions more per command it tests.)
  local word words=('trap*')
  for cmd in ${_credwatch_cmds[@]+"${_credwatch_cmds[@]}"}; do
    [[ $cmd != '!'* ]] || continue
    printf -v word '%q' "${cmd%% *}"
    words+=("*$word*")
  done
  # (`*1`: the 101st command of a line, see _credwatch_trap_test.)
  words+=('*1')
  local IFS='|'
  _cw_w="@(${words[*]})"
  # (10#: a leading zero is not octal.)
  [[ -n $pid && -z ${pid//[0-9]/} ]] && pid=$((10#$pid)) || pid=0
  [[ -n $until && -z ${until//[0-9]/} ]] && until=$((10#$until)) || until=0
  [[ -n $stamp && -z ${stamp//[0-9.]/} ]] || stamp=
  [[ -z ${generation//[0-9]/} ]] || generation=
}

# Hands this shell's context to the daemon when it changed since it was last handed over, or
# when the daemon lost it (a new runtime dir): one file written with printf, a builtin (`>|`:
# also under noclobber). A variable counts only when exported (what a command sees; bash < 4.4
# cannot tell, and counts it when set).
_credwatch_send_context() {
  local context="@CREDWATCH_CONTEXT@" name value records=()
  [[ $context != "$_credwatch_context" || ! -e $_credwatch_dir/context/$$ ]] || return 0
  # Kept even when it cannot be handed over (no daemon made the directory yet): the comparison
  # after each command then holds, and the missing file sends it once the directory exists.
  _credwatch_context=$context
  [[ -d $_credwatch_dir/context && -O $_credwatch_dir/context && ! -L $_credwatch_dir/context ]] || return 0
  _credwatch_generation=$RANDOM$RANDOM$RANDOM _credwatch_waited=0
  for name in ${_credwatch_selects[@]+"${_credwatch_selects[@]}"}; do
    if [[ -n ${!name+set} ]] && _credwatch_exported "$name"; then
      records+=("$name=${!name}")
    else
      records+=("$name")
    fi
  done
  for name in ${_credwatch_shadows[@]+"${_credwatch_shadows[@]}"}; do
    value=
    ! _credwatch_exported "$name" || value=${!name-}
    case ${value,,} in
      '' | @CREDWATCH_OFF_CASE@) records+=("$name") ;;
      *) records+=("$name=1") ;;
    esac
  done
  printf '%s\0' "$_credwatch_generation" ${_credwatch_wake_record:+"$_credwatch_wake_record"} ${records[@]+"${records[@]}"} end 2>&- >|"$_credwatch_dir/context/$$" || :
}

# Whether the variable named $1 is exported (bash >= 4.4 tells; older bash: taken as exported).
_credwatch_exported() {
  [[ -n ${!1+set} ]] || return 1
  ((_credwatch_no_ps0)) && return 0
  local attributes
  attributes=${!1@a}
  [[ $attributes == *x* ]]
}

# Reads the state; sets CREDWATCH_PROMPT, CREDWATCH_DAEMON and the pre-command warnings.
_credwatch_refresh() {
  local now=${EPOCHSECONDS-} pid until stamp message generation
  [[ -n $now ]] || printf -v now '%(%s)T' -1
  _credwatch_send_context
  local live=0
  # This shell's own answer first: when it answers the context handed over, it is the one file
  # read.
  [[ -z $_credwatch_generation ]] || _credwatch_read "$_credwatch_dir/shell/$$" generation
  if [[ -n $_credwatch_generation && $generation == "$_credwatch_generation" ]] && _credwatch_holds; then
    live=1 _cw_m=$_credwatch_dir/shell/$$.$stamp
  else
    _credwatch_read "$_credwatch_dir/prompt"
    if _credwatch_holds; then
      live=1 _cw_m=$_credwatch_dir/prompt.$stamp
      # Not answered yet: the daemon's own view, read again at the next prompts (three), then
      # after the next command at least 5 s on (a slow answer is picked up; a daemon that does
      # not keep contexts never answers, and costs a read now and then).
      if [[ -n $_credwatch_generation ]]; then
        if ((_credwatch_waited++ < 3)); then
          _cw_m=$_credwatch_dir/prompt.
        elif ((until == 0 || until > now + 5)); then
          until=$((now + 5))
        fi
      fi
    fi
  fi
  if ((live)); then
    CREDWATCH_DAEMON=1
    _credwatch_daemon_seen=1 _credwatch_daemon_pid=$pid
    _credwatch_pid=$pid _cw_u=$until
    # At least every 30 s (after a command): see _cw_p1.
    ((until != 0 && until <= now + 30)) || _cw_u=$((now + 30))
  else
    CREDWATCH_DAEMON=0
    _cw_m=$_credwatch_dir/prompt.
    if [[ -n $_credwatch_daemon_seen ]]; then
      _credwatch_daemon_seen=
      if [[ -x $_credwatch_bin ]]; then
        printf 'credwatch: the watchdog stopped; checking directly every %ss until it runs again\n' "${CREDWATCH_INTERVAL:-30}" >&2
      else
        printf 'credwatch: %s is gone (uninstalled?): this hook does nothing more; remove its line from your shell startup file\n' "$_credwatch_bin" >&2
      fi
    fi
    if ((now >= _credwatch_next_check)) && [[ -x $_credwatch_bin ]]; then
      _credwatch_next_check=$((now + ${CREDWATCH_INTERVAL:-30}))
      _credwatch_check_detached
    fi
    _credwatch_read "$_credwatch_dir/shell/$$.direct"
  fi
  # The flag in this shell's locale (the daemon's is not the shell's).
  case ${LC_ALL:-${LC_CTYPE:-${LANG-}}} in
    *[Uu][Tt][Ff]-8* | *[Uu][Tt][Ff]8*) ;;
    *) message=${message//⚠/!} ;;
  esac
  CREDWATCH_PROMPT=$message
  if [[ $message != "$_credwatch_shown" ]]; then
    _credwatch_shown=$message
    [[ -z $message ]] || printf 'credwatch: %s — run: credwatch status\n' "$message" >&2
  fi
  return 0
}

# Whether the state just read (the caller's pid, until and now) is a live daemon's that still
# holds.
_credwatch_holds() {
  ((pid != 0)) && [[ -d /proc/$pid ]] && ((until == 0 || now < until))
}

# One direct check, fully detached (no job lines); starts the daemon instead when asked to.
_credwatch_check_detached() {
  local autostart=${CREDWATCH_AUTOSTART-}
  if [[ -z $autostart ]]; then
    autostart=1
    [[ ! -S ${XDG_RUNTIME_DIR-}/systemd/private ]] || autostart=0
  fi
  if [[ $autostart == 1 ]]; then
    ("$_credwatch_bin" daemon >/dev/null 2>&1 </dev/null &)
  fi
  ("$_credwatch_bin" prompt --cache --shell $$ >/dev/null 2>&1 </dev/null &)
}

# The hook's element in PROMPT_COMMAND runs one of two functions, chosen by _cw_k, which PS0
# sets: bash copies a function's body each time it runs it, and each call costs, so neither path
# pays for the other. Their status is no one else's: bash >= 5.1 gives each element of an array
# PROMPT_COMMAND the command's own $? and PIPESTATUS, and bash-preexec does the same for each
# precmd function (where the hook is _credwatch_precmd).
# The rest (_credwatch_slow) runs when the state changed, and at the first prompts (where `set -e`
# is off for all it runs): it also checks the hook's place, which only matters at a prompt where
# the state changes, and which prompt frameworks change while the rc file runs or at the first
# prompt (bash-preexec).
# shellcheck disable=SC2016 # expanded when PROMPT_COMMAND runs
_credwatch_element='_cw_p$_cw_k'
_credwatch_precmd() {
  "_cw_p$_cw_k"
}

# No command since the last prompt: one test (two stats).
_cw_p0() {
  [[ -e $_cw_m && -d /proc/$_credwatch_pid ]] || _credwatch_slow
}

# A command ran since the last prompt (PS0 says so; without PS0, at every prompt): only a
# command changes a variable (CREDWATCH_DISABLE among them), so only then are they compared, and
# the clock read: once the state's deadline has passed the state is read again, and at least
# every 30 s (see _credwatch_refresh), which is when a daemon that died is found on this path (an
# empty prompt stats its /proc entry; a system call costs here what a dozen tests do). The rest
# runs when the state changed, at the first prompts, and at a prompt that must arm or take out
# the hook's trap (the marker is emptied then: '' never exists).
# The variables are compared in two steps. Here, when no shadowing variable is set and `set -u`
# and `set -x` are off (xtrace would print the plain values, a token among them), the selecting variables' values (and CREDWATCH_DISABLE's) as one unquoted word with
# plain expansions (the form that costs bash least: see shell.rs) against _cw_q, which
# ends with `-` when a shadowing variable was set as it was recorded (this word never does).
# Otherwise, the whole context (whether each shadowing variable turns its login's override on:
# see _credwatch_send_context), in a function of its own (its long text would be copied at each
# call).
# _cw_t is what _cw_n holds after a command when the hook's trap did not run since
# PS0 (1) or since a `trap` command (the count then): something replaced it (see _credwatch_slow);
# -1, which it never holds, while the trap is out.
# (Every term costs, and an arithmetic one less than a `[[` one: the clock and the count are one.
# bash < 5 has no EPOCHSECONDS: see below.)
# shellcheck disable=SC2050,SC2015 # the contexts are expansions once `credwatch init` filled them in; the slow way is right whichever test failed
_cw_p1() {
  [[ -e $_cw_m && $- != *[ux]*@CREDWATCH_NO_SHADOW_SET@ && $CREDWATCH_DISABLE:@CREDWATCH_QUICK_SELECTS@ == "$_cw_q" ]] &&
    ((EPOCHSECONDS < _cw_u && _cw_n != _cw_t)) || _credwatch_exact_or_slow
  _cw_n=-999999999 _cw_k=0
}
_cw_q=- _credwatch_disable=
# An earlier hook's functions, when this one is read again after an upgrade.
unset -f _credwatch_prompt0 _credwatch_prompt1
: "${_cw_t:=-1}"
# bash < 5 (no EPOCHSECONDS, which `set -u` would call unbound): the same without the clock.
# bash < 4.4 (no PS0 to say a command ran): every prompt is one after a command.
if [[ -z ${EPOCHSECONDS-} ]]; then
  _credwatch_definition=$(declare -f _cw_p1)
  eval "${_credwatch_definition//EPOCHSECONDS/0}"
  unset _credwatch_definition
fi
((_credwatch_no_ps0 == 0)) || _cw_p0() { _cw_p1; }

# shellcheck disable=SC2050 # the contexts are expansions once `credwatch init` filled them in
_credwatch_exact_or_slow() {
  [[ -e $_cw_m && ${EPOCHSECONDS:-0} -lt $_cw_u &&
    $_cw_n != "$_cw_t" && ${CREDWATCH_DISABLE-} == "$_credwatch_disable" &&
    "@CREDWATCH_CONTEXT@" == "$_credwatch_context" ]] || _credwatch_slow
}

# Everything in it runs where `set -e` is off, and it returns 0: no state of credwatch can end
# the shell.
# shellcheck disable=SC2050 # the contexts are expansions once `credwatch init` filled them in
_credwatch_slow() {
  # The warnings given during the line before (a prompt after one comes this way: see
  # _credwatch_preexec), and this shell's variables as compared at the next prompts.
  _credwatch_warned=
  # The number of the interactive line last read, where PROMPT_COMMAND called the hook (the
  # second prompt comes this way: the first three do): from then on a line is not the first.
  local outer=$((${#FUNCNAME[@]} - 1))
  [[ ${FUNCNAME[outer]} != @(_credwatch_pr*|_cw_p?) ]] || _credwatch_line=${BASH_LINENO[outer]}
  _credwatch_disable=${CREDWATCH_DISABLE-}
  _cw_q="${CREDWATCH_DISABLE-}:@CREDWATCH_QUICK_SELECTS_SAFE@"
  # shellcheck disable=SC2157 # an expansion once `credwatch init` filled it in
  [[ -z "@CREDWATCH_SHADOWS_SET@" ]] || _cw_q+=-
  if ((_cw_n == _cw_t)) && [[ -n $_credwatch_trap_installed ]]; then
    # A command ran and the hook's trap did not run since PS0, or since a `trap` command (it
    # counts each command, the hook's element in PROMPT_COMMAND included): something replaced
    # it. The hook's functions traced again, it is put back at the next prompt, chained to what
    # replaced it (here, untraced, that trap does not show).
    _credwatch_trap_installed='' _credwatch_remove=0 _cw_t=-1
    declare -ft "${_credwatch_traced[@]}"
    _credwatch_on_change || :
    _credwatch_rearm=1 _cw_m=
    return 0
  fi
  [[ -z $_credwatch_trap_installed ]] || _cw_t=1
  _credwatch_on_change || :
  ((_credwatch_rearm == 0)) || _credwatch_arm_debug_trap || :
}

# SIGURG, sent by the daemon when what this shell shows changed. bash runs the trap once the
# line is entered (not while readline waits), after PS0, before the line runs: the new state is
# read, and the hook's trap put in for the line's commands (in a function the trap would not
# stay: then the next prompt does it). $1, $_ as the trap found it, is its last argument again.
# Traced while the hook's trap is out: it sees the trap in force (see _credwatch_traced).
# bash also runs it between the commands of whatever runs when the signal comes, with that
# command's redirections: the hook's own read of the state closes standard error, a user's
# `{ ...; } 2>/dev/null` sends it elsewhere. The one-time line must reach the terminal: then the
# next prompt reads the state instead (no marker).
_credwatch_woken() {
  [[ -t 2 ]] || { _cw_m=; return 0; }
  _credwatch_recheck || return 0
  ((${#FUNCNAME[@]} > 1 || _credwatch_rearm == 0)) || _credwatch_arm_debug_trap || :
  return 0
}

# bash < 5.1 (a string PROMPT_COMMAND, the hook first in it): hands $? on to what follows.
_credwatch_status=0
_credwatch_precmd_keep_status() {
  _credwatch_status=$?
  "_cw_p$_cw_k"
  # Returning non-zero would end a `set -e` shell.
  [[ $- == *e* ]] || return "$_credwatch_status"
}

# Traced while the hook's DEBUG trap is not in (see _credwatch_arm_debug_trap): a function sees
# the DEBUG trap in force (to chain the user's) only when every caller up to the top level is
# traced, and only then does a trap it sets or takes out stay so. With no DEBUG trap set,
# tracing costs nothing. While the hook's trap is in they are not traced: the trap then runs at
# the hook's call, not at each command in it.
_credwatch_traced=(_credwatch_precmd _cw_p0 _cw_p1 _credwatch_exact_or_slow _credwatch_slow _credwatch_woken)
declare -ft _credwatch_precmd_keep_status
# (Sourced again while the hook's trap is in, `. ~/.bashrc`: they stay as they are.)
[[ -n ${_credwatch_trap_installed-} ]] || declare -ft "${_credwatch_traced[@]}"

# Where the hook must be: an indirect reference to one array element, and what it must hold.
_credwatch_head='PROMPT_COMMAND[0]'
_credwatch_head_pattern=$_credwatch_element

# Prompts left at which the hook checks its place whatever happens.
_credwatch_settle=3
_credwatch_rearm=0
# shellcheck disable=SC2053 # $_credwatch_head_pattern is a pattern
_credwatch_on_change() {
  [[ ${!_credwatch_head-} == $_credwatch_head_pattern && (-z ${bash_preexec_imported-}${__bp_imported-} ||
    ${PROMPT_COMMAND[*]-} != *@(_credwatch_pr|_cw_p)*) ]] || _credwatch_place
  if [[ ${CREDWATCH_DISABLE-} == 1 ]]; then
    CREDWATCH_PROMPT='' CREDWATCH_DAEMON='' _credwatch_shown=''
    _cw_m=$_credwatch_dir/prompt.
    _credwatch_cmds=()
    _credwatch_texts=()
  elif [[ ! -e $_cw_m || ! -d /proc/$_credwatch_pid ||
    ${EPOCHSECONDS:-0} -ge $_cw_u || "@CREDWATCH_CONTEXT@" != "$_credwatch_context" ]]; then
    _credwatch_refresh
  fi
  _credwatch_rearm=0
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    # bash-preexec loaded after this hook: join its preexec functions.
    [[ " ${preexec_functions[*]-} " == *" _credwatch_preexec "* ]] || preexec_functions+=(_credwatch_preexec)
  elif ((${#_credwatch_cmds[@]})); then
    [[ -n $_credwatch_trap_installed ]] || _credwatch_rearm=1
  else
    [[ -z $_credwatch_trap_installed ]] || _credwatch_rearm=1
  fi
  if ((_credwatch_settle > 0)); then
    # The next prompt comes this way again (no marker).
    _credwatch_settle=$((_credwatch_settle - 1)) _cw_m=
  fi
  return 0
}

# Puts the hook before every prompt renderer, so that a framework which builds its prompt from
# $CREDWATCH_PROMPT in PROMPT_COMMAND or in a precmd function sees this prompt's state:
# - with bash-preexec (which keeps its own function first in PROMPT_COMMAND and runs
#   precmd_functions in order): first in precmd_functions, and out of PROMPT_COMMAND;
# - bash >= 5.1: an element of its own at the start of an array PROMPT_COMMAND (after direnv's,
#   which changes the environment first); a string PROMPT_COMMAND becomes the next element, and
#   anything later added to the hook's element by string is moved out of it (only the first
#   prompt after such an addition gives it the hook's status);
# - older bash: first in the string PROMPT_COMMAND, handing $? on.
# Nothing of the hook's comes after another tool's element: liquidprompt's DEBUG trap, for one,
# would start timing the next command at it.
_credwatch_place() {
  local entry kept=() rest
  if [[ -n ${PROMPT_COMMAND+set} && ${PROMPT_COMMAND@a} == *r* ]]; then
    # Read-only: nothing can be placed. The head then names the pattern itself, which always
    # matches, so the prompt does not try again each time.
    _credwatch_head=_credwatch_head_pattern
    return 0
  fi
  # The hook's names out of every element (with the separator that joined them).
  for entry in "${PROMPT_COMMAND[@]-}"; do
    # (`_credwatch_prompt$_cw_k`: an earlier hook's element, when the hook is read again after an
    # upgrade.)
    # shellcheck disable=SC2016 # the element's text
    for rest in _credwatch_precmd_keep_status _credwatch_precmd "$_credwatch_element" '_credwatch_prompt$_cw_k'; do
      entry=${entry//$'\n'$rest/}
      entry=${entry//;$rest/}
      entry=${entry//$rest$'\n'/}
      entry=${entry//$rest;/}
      entry=${entry//$rest/}
    done
    [[ -z ${entry//[[:space:];]/} ]] || kept+=("$entry")
  done
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    # bash-preexec installs itself at the first prompt, after what PROMPT_COMMAND runs before it
    # (a framework loaded before it, such as starship before atuin): until then the hook also
    # runs first there, for that one prompt; the place is checked again at the next prompts, and
    # this element goes once bash-preexec has installed itself.
    if [[ ${PROMPT_COMMAND[*]-} != *__bp_precmd_invoke_cmd* && ${kept[0]-} != *__bp_install* ]] &&
      ((${#kept[@]})); then
      kept=("$_credwatch_element" "${kept[@]}")
    fi
    # shellcheck disable=SC2128,SC2178 # a string in bash < 5.1
    if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
      PROMPT_COMMAND=("${kept[@]}")
    else
      local IFS=$'\n'
      PROMPT_COMMAND=${kept[*]-}
    fi
    kept=(_credwatch_precmd)
    for entry in "${precmd_functions[@]-}"; do
      [[ -z $entry || $entry == _credwatch_precmd ]] || kept+=("$entry")
    done
    precmd_functions=("${kept[@]}")
    _credwatch_head='precmd_functions[0]' _credwatch_head_pattern=_credwatch_precmd
  elif ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
    if [[ ${kept[0]-} == _direnv_hook ]]; then
      PROMPT_COMMAND=(_direnv_hook "$_credwatch_element" "${kept[@]:1}")
      _credwatch_head='PROMPT_COMMAND[1]'
    else
      PROMPT_COMMAND=("$_credwatch_element" "${kept[@]}")
      _credwatch_head='PROMPT_COMMAND[0]'
    fi
    _credwatch_head_pattern=$_credwatch_element
  else
    # shellcheck disable=SC2128,SC2178 # a string in bash < 5.1
    PROMPT_COMMAND=_credwatch_precmd_keep_status${kept[0]:+$'\n'${kept[0]}}
    _credwatch_head=PROMPT_COMMAND _credwatch_head_pattern='_credwatch_precmd_keep_status*'
  fi
}

# Gives the command that a part of a command line runs, in the caller's `part`: without
# leading blanks, assignments (NAME=value), the words that run what follows them (command, env,
# exec, nohup, nice, time, timeout, ionice, stdbuf, keywords), their options and the arguments
# of those (`nice -n 10`, `timeout 5`, `env -u NAME`), and a directory (/usr/bin/gh). sudo runs
# what follows as the user only with `-u` naming the user; otherwise what it runs uses root's
# logins, and the part is left empty.
_credwatch_command_part() {
  local word wrapper='' takes='' self=${USER-}
  while :; do
    part=${part#"${part%%[![:space:]]*}"}
    word=${part%%[[:space:]]*}
    [[ -n $word ]] || break
    if [[ -n $takes ]]; then
      # The argument of the option before it (sudo -u: the user's name, or $USER as typed).
      # shellcheck disable=SC2016 # the words as typed
      [[ $takes != sudo-user || $word == "$self" || $word == '$USER' || $word == '${USER}' ]] || { part=''; return 0; }
      [[ $takes != sudo-user ]] || wrapper=sudo-self
      takes=''
    else
      case $wrapper:$word in
        *:command | *:builtin | *:env | *:exec | *:nohup | *:nice | *:time | *:timeout | *:ionice | *:stdbuf | *:then | *:do | *:else | *:elif | *:if | *:while | *:until | *:'!') wrapper=$word ;;
        *:sudo) wrapper=sudo ;;
        sudo:-u | sudo-self:-u) takes=sudo-user ;;
        nice:-n | ionice:-[cnp] | env:-[uCS] | timeout:-[sk] | sudo*:-[ghpCDrtU] | exec:-a | time:-[fo]) takes=1 ;;
        *:-*) ;;
        timeout:[0-9]*) wrapper=timeout-done ;;
        *:[A-Za-z_]*=*) [[ ${word%%=*} != *[!A-Za-z0-9_]* ]] || break ;;
        *) break ;;
      esac
    fi
    part=${part#"$word"}
  done
  # sudo without `-u` naming the user: root's logins.
  [[ $wrapper != sudo ]] || part=''
  [[ $word != */* ]] || part=${part#"${word%/*}/"}
}

# Whether the part (its words in the caller's `words`) runs command $1: its first word, then
# each further word of $1 among the part's later words (`git -C /tmp fetch` runs `git fetch`).
_credwatch_runs() {
  local want w i=1
  read -ra want <<<"$1"
  [[ ${words[0]-} == "${want[0]-}" ]] || return 1
  for w in "${words[@]:1}"; do
    ((i < ${#want[@]})) || break
    [[ $w != "${want[i]}" ]] || i=$((i + 1))
  done
  ((i >= ${#want[@]}))
}

# Prints the warning for each command of a command line ($1) that uses a broken login, once
# per warning (with $2 = line: not again for one given earlier in the same line, kept in
# _credwatch_warned). With CREDWATCH_CONFIRM=1 it then asks whether to run the line; "no"
# cancels it as Ctrl-C would (status 130; the line stays in the history).
_credwatch_preexec() {
  local rest part i warned='' earlier=''
  # Called by bash-preexec (no second argument): the state may have changed since the prompt.
  [[ -n ${2-} || -z ${bash_preexec_imported-}${__bp_imported-} ]] || _credwatch_recheck || :
  [[ ${2-} != line ]] || earlier=$_credwatch_warned
  [[ ${CREDWATCH_DISABLE-} == 1 || ${#_credwatch_cmds[@]} == 0 ]] && return 0
  # Only a line that names a watched program can use it: a plain test first, the parsing after.
  for i in "${_credwatch_cmds[@]}"; do
    [[ ${1-} != *"${i%% *}"* ]] || break
  done
  [[ ${1-} == *"${i%% *}"* ]] || return 0
  # Split at ; & | ( ) { } ` and newlines: each part starts a command (a separator inside quotes
  # only adds a part).
  rest=${1-}
  rest=${rest//[;&|(){\}\`]/$'\n'}$'\n'
  local words exempt
  while [[ -n $rest ]]; do
    part=${rest%%$'\n'*}
    rest=${rest#*$'\n'}
    _credwatch_command_part
    [[ -n $part ]] || continue
    read -ra words <<<"$part"
    # A command that makes the login (`!gh auth login` in the state): no warning before it.
    exempt=0
    for i in "${_credwatch_cmds[@]}"; do
      [[ $i != '!'* ]] || ! _credwatch_runs "${i#!}" || { exempt=1; break; }
    done
    ((exempt == 0)) || continue
    for i in "${!_credwatch_cmds[@]}"; do
      [[ ${_credwatch_cmds[i]} != '!'* ]] || continue
      if _credwatch_runs "${_credwatch_cmds[i]}" &&
        [[ $earlier$warned != *$'\n'"${_credwatch_texts[i]}"$'\n'* ]]; then
        printf '%s\n' "${_credwatch_texts[i]}" >&2
        warned+=$'\n'${_credwatch_texts[i]}$'\n'
      fi
    done
  done
  # Those of a line are not given again in that line; the prompt after it clears them (and so
  # comes the slow way).
  [[ ${2-} != line || -z $warned ]] || _credwatch_warned+=$warned _cw_m=
  if [[ -n $warned && ${CREDWATCH_CONFIRM-} == 1 ]] && ! _credwatch_confirm; then
    kill -INT $$
  fi
  return 0
}

# Before a command line runs (woken by the daemon, see _credwatch_woken; with bash-preexec, its
# preexec): a state the daemon published after the prompt was drawn (a login that broke while
# the prompt waited) is read, and warned about before the command. Two stats while nothing
# changed. True when it read a new state.
_credwatch_recheck() {
  [[ ${CREDWATCH_DISABLE-} != 1 && -n $_credwatch_daemon_seen ]] || return 1
  # (The daemon's pid as read: _credwatch_pid is the one the state named.)
  if [[ -e $_cw_m && -d /proc/$_credwatch_daemon_pid ]] &&
    ((_cw_u == 0 || ${EPOCHSECONDS:-0} < _cw_u)); then
    return 1
  fi
  _credwatch_refresh || :
  # The next prompt, even after an empty line, arms (or takes out) the hook's trap for what is
  # broken now (2: not taken for a trap that did not run, see _credwatch_slow).
  ((_cw_n > 1)) || _cw_n=2
  _cw_k=1 _credwatch_rearm=1 _cw_m=
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
# steady state costs nothing), chained before the user's own trap, which it gives back after.
# PS0 arms it for a command line (see _credwatch_ps0); it then counts each simple command of the
# line (in _cw_n) until the hook's element in PROMPT_COMMAND has run, and calls a function only
# for one that names a watched command (a pattern test, _cw_w). Unarmed (at a prompt: the count
# is below 0) a command there that names one calls it, which returns; past the first 100 commands of a line
# it takes itself out, so a long loop runs as it would without the hook, and the next prompt
# puts it back. It leaves $_ and $? as it found them for what follows (`((` and `[[` do not set
# $_): the command, and the user's trap (which also keeps deciding the trap's status).
# Without PS0 (bash < 4.4) nothing would arm it: it is not installed.
# The trap's state survives the hook being read again (`. ~/.bashrc` while the trap is in: bash
# hides it meanwhile, and the hook must not take its own trap for the user's).
: "${_credwatch_user_debug_trap=}" "${_credwatch_trap_installed=}"
_credwatch_warned=
_credwatch_last_status=0
# shellcheck disable=SC2016 # expanded when the trap runs
# (Short, and short names: bash parses a trap's text each time it runs it, and each command and
# each arithmetic in it costs; the count is appended to the command as 0, or 1 past the 100th,
# which _cw_w's `*1` catches. It returns 0 but for a command it warns about and the user
# declines: with extdebug a DEBUG trap that fails skips the command.)
_credwatch_trap_test='[[ $BASH_COMMAND$((_cw_n++>100)) != $_cw_w ]]||_cw_d "$_"'
_credwatch_trap=$_credwatch_trap_test
_credwatch_arm_debug_trap() {
  _credwatch_rearm=0
  [[ -z ${bash_preexec_imported-}${__bp_imported-} ]] || return 0
  ((_credwatch_no_ps0 == 0)) || return 0
  if ((${#_credwatch_cmds[@]})); then
    # Something to warn about again: a removal still pending is called off.
    _credwatch_remove=0
    if [[ -z $_credwatch_trap_installed ]]; then
      # Traced up to the top level here: the trap in force shows, and the one set stays.
      _credwatch_trap_text "$(trap -p DEBUG)"
      # shellcheck disable=SC2016 # expanded when the trap runs
      if [[ -n $_credwatch_user_debug_trap ]]; then
        trap -- '((_credwatch_last_status = $?, 1)); '"$_credwatch_trap_test"'; _credwatch_return_last_status "$_" && : "$_"; '"$_credwatch_user_debug_trap" DEBUG
      else
        trap -- "$_credwatch_trap" DEBUG
      fi
      _credwatch_trap_installed=$(trap -p DEBUG) _cw_t=1
      declare -f +t "${_credwatch_traced[@]}"
    fi
  elif [[ -n $_credwatch_trap_installed ]]; then
    # Untraced here: the trap in force does not show, and one taken out would be put back when
    # the functions return. The trap's next armed run takes itself out (_cw_d, called
    # for every command now), where it shows: the user's is given back unless something
    # replaced the hook's since.
    _credwatch_remove=1 _cw_w='*'
  fi
  return 0
}
# Traced: it sees the trap in force when its callers are.
declare -ft _credwatch_arm_debug_trap
_credwatch_remove=0

# The user's trap: the command of a `trap -p` line ($1), as `trap --` takes it back (empty for
# none).
_credwatch_trap_text() {
  _credwatch_user_debug_trap=${1#"trap -- '"}
  _credwatch_user_debug_trap=${_credwatch_user_debug_trap%"' DEBUG"}
  # trap -p quotes a ' in the trap as '\''.
  _credwatch_user_debug_trap=${_credwatch_user_debug_trap//"'\''"/"'"}
}

# Puts back the DEBUG trap that was there before the hook's (or none).
_credwatch_give_trap_back() {
  if [[ -n $_credwatch_user_debug_trap ]]; then
    trap -- "$_credwatch_user_debug_trap" DEBUG
  else
    trap - DEBUG
  fi
}
declare -ft _credwatch_give_trap_back

_credwatch_return_last_status() {
  return "$_credwatch_last_status"
}

# The trap's work for a simple command ($BASH_COMMAND) that names a watched one, or past the
# first 100 of a line, or when it is to take itself out. ($1, $_ as the trap found it, is there
# only to be the trap's last argument again: bash sets $_ from it.) Kept small: bash copies a
# function's body each time it runs it.
_cw_d() {
  # Unarmed: a command of the prompt's (another framework's function) that names a watched one.
  ((_cw_n > 0)) || return 0
  ((_credwatch_remove == 0)) || { _credwatch_trap_remove; return 0; }
  # The hook's own command; or bash-preexec, loaded after the trap was set, keeps it as one of
  # its preexec functions, beside _credwatch_preexec: warn once.
  [[ $BASH_COMMAND != _credwatch_* && -z ${bash_preexec_imported-}${__bp_imported-} ]] || return 0
  ((_cw_n <= 101)) || { _credwatch_trap_out; return 0; }
  # A command of a trap's text (the daemon's wake-up, or any other signal's trap) runs at line 1
  # (where the trap called this) with the line before's command as BASH_COMMAND: not one of
  # this line's, once the line read is not the first (see _credwatch_slow).
  ((BASH_LINENO[0] != 1 || _credwatch_line < 1)) || return 0
  # A `trap` command may replace the hook's trap: then it runs no more in this line, and the
  # count stays where it is now (see _credwatch_slow, which the next prompt runs).
  [[ $BASH_COMMAND != trap* ]] || _cw_t=$_cw_n _cw_m=
  # Only a command that names a watched one can use it: a plain test first, the parsing after.
  local cmd
  for cmd in "${_credwatch_cmds[@]}"; do
    [[ $BASH_COMMAND != *"${cmd%% *}"* ]] || {
      _credwatch_preexec "$BASH_COMMAND" line || :
      break
    }
  done
  return 0
}

# The hook's trap out: the user's given back (unless something replaced the hook's since), and
# the hook's functions traced again (so the next install sees the trap in force).
_credwatch_trap_remove() {
  _credwatch_remove=0
  [[ $(trap -p DEBUG) != "$_credwatch_trap_installed" ]] || _credwatch_give_trap_back
  _credwatch_trap_installed='' _cw_t=-1
  declare -ft "${_credwatch_traced[@]}"
}

# Past the first 100 commands of a line: the rest of the line runs without the trap, and the
# next prompt puts it back.
_credwatch_trap_out() {
  _credwatch_trap_remove
  _credwatch_rearm=1 _cw_m=
}

# Traced: the trap it takes out stays out (an untraced function's change to the DEBUG trap is
# undone when it returns).
declare -ft _cw_d _credwatch_trap_out _credwatch_trap_remove

# What the hook adds to PS0, which bash expands (with no subshell) once per command line it runs,
# not for an empty line: it tells the next prompt that a command ran, and arms the DEBUG trap
# for the line's commands. An array subscript is arithmetic: an unset array's element expands to
# nothing and costs least (bash parses PS0 at each command line: ~11,000 instructions in this
# form, 67,000 with the clock and the line number it once read too).
# shellcheck disable=SC2016 # expanded by bash when it shows PS0
_credwatch_ps0='${_credwatch_none[_cw_n=_cw_k=1]-}'
_credwatch_line=0

# Installs the hook once, whatever PROMPT_COMMAND is (unset, a string, an array). Prints
# nothing: what there is to say is said at the first prompt.
_credwatch_install() {
  # Tells `credwatch doctor` that this shell runs the hook.
  export CREDWATCH_HOOK="bash $$"
  [[ ${PS0-} == *"$_credwatch_ps0"* ]] || PS0=${PS0-}$_credwatch_ps0
  # The traps in force as the hook is read, in one subshell (each `$(trap -p ...)` forks; a
  # subshell shows the shell's traps), split at \1.
  local traps
  traps=$(trap -p DEBUG; printf '\1'; trap -p RETURN; printf '\1'; trap -p URG)
  # (Each line but the last keeps its newline: taken off.)
  _credwatch_start_debug=${traps%%$'\1'*}
  _credwatch_start_debug=${_credwatch_start_debug%$'\n'}
  traps=${traps#*$'\1'}
  _credwatch_start_return=${traps%%$'\1'*}
  _credwatch_start_return=${_credwatch_start_return%$'\n'}
  _credwatch_start_urg=${traps#*$'\1'}
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    [[ " ${preexec_functions[*]-} " == *" _credwatch_preexec "* ]] || preexec_functions+=(_credwatch_preexec)
  else
    _credwatch_watch_rc "$@"
  fi
  _credwatch_wake_trap
  _credwatch_place
}
# Traced: the trap it sets stays (see _credwatch_watch_rc).
declare -ft _credwatch_install

# The daemon's wake-up (see _credwatch_woken): SIGURG, ignored by default, so a process that
# got this shell's pid later is not harmed (the daemon signals through a pidfd anyway). Asked
# for in the context handed over (`@wake`), and only when no trap of the user's has SIGURG.
_credwatch_wake_record=
_credwatch_wake_trap() {
  [[ -z $_credwatch_start_urg || $_credwatch_start_urg == *_credwatch_woken* ]] || return 0
  # shellcheck disable=SC2016 # expanded when the trap runs
  trap -- '_credwatch_woken "$_"' URG
  _credwatch_wake_record=@wake
}

# The rc file may go on after the hook and assign PROMPT_COMMAND over it (`PROMPT_COMMAND=
# 'history -a'`, a framework that prepends itself). Until the first prompt a DEBUG trap waits
# (chained before the user's, which it gives back): it runs only a test while the rc file runs
# (BASH_SOURCE names it), and at the first command outside it, the first prompt's, it puts the
# hook back in its place and, if it had to, runs it at once, before the prompt's renderer.
# It sees the DEBUG and RETURN traps set before the hook in what _credwatch_install read.
# bash hides a DEBUG trap set before a file read by `source` or a function runs, and puts it back
# when they end only if none was set meanwhile: a user's trap is never lost. So the hook sets
# none inside a function ($1 is 0 there), and when it was read by `source` (what BASH_SOURCE
# held at its top level, $2 entries, is gone when its RETURN trap runs), it takes its trap out
# as that ends: a hook read by `source` does not find its way back.
_credwatch_settle_trap=
_credwatch_user_return_trap=
_credwatch_watch_rc() {
  local current=$_credwatch_start_debug restore='' text
  # Read twice (an rc file that evals the hook twice): one watch.
  [[ $1 == 1 && $current != *_credwatch_settled* ]] || return 0
  _credwatch_trap_text "$current"
  if ((${2:-0})); then
    # A RETURN trap takes the watch out if the hook was read by `source`, as that ends; at the
    # first prompt the user's RETURN trap is given back.
    _credwatch_user_return_trap=${_credwatch_start_return#"trap -- '"}
    _credwatch_user_return_trap=${_credwatch_user_return_trap%"' RETURN"}
    _credwatch_user_return_trap=${_credwatch_user_return_trap//"'\''"/"'"}
    # shellcheck disable=SC2016 # expanded when the trap runs
    trap -- '[[ -n ${BASH_SOURCE['"$(($2 - 1))"']+x} || -z $_credwatch_settle_trap ]] || { trap - DEBUG RETURN; _credwatch_settle_trap=; }'"${_credwatch_user_return_trap:+; $_credwatch_user_return_trap}" RETURN
    # shellcheck disable=SC2016 # expanded when the trap runs
    restore='if [[ -n $_credwatch_user_return_trap ]]; then trap -- "$_credwatch_user_return_trap" RETURN; else trap - RETURN; fi; '
  fi
  # Run where the rc file runs: a test. At the first command outside it: the hook's work, $_
  # kept, and the user's trap after it with the command's $?.
  # shellcheck disable=SC2016 # expanded when the trap runs
  local watch='[[ -n ${BASH_SOURCE-} || -z $_credwatch_settle_trap ]] || { _credwatch_last_arg=$_; '"$restore"'_credwatch_settled; : "$_credwatch_last_arg"; }'
  if [[ -n $_credwatch_user_debug_trap ]]; then
    # shellcheck disable=SC2016 # expanded when the trap runs
    text='((_credwatch_last_status = $?, 1)); '"$watch"'; _credwatch_return_last_status "$_" && : "$_"; '"$_credwatch_user_debug_trap"
  else
    text=$watch
  fi
  trap -- "$text" DEBUG
  # What `trap -p DEBUG` prints for it (without a subshell): a ' quoted as '\''.
  _credwatch_settle_trap="trap -- '${text//\'/\'\\\'\'}' DEBUG"
}
declare -ft _credwatch_watch_rc

# shellcheck disable=SC2053 # $_credwatch_head_pattern is a pattern
_credwatch_settled() {
  # Give the trap that was there before back, unless something replaced the hook's since.
  [[ $(trap -p DEBUG) != "$_credwatch_settle_trap" ]] || _credwatch_give_trap_back
  _credwatch_settle_trap=
  [[ ${!_credwatch_head-} != $_credwatch_head_pattern ]] || return 0
  # Assigned over: back in its place for the next prompts, and run now for this one (bash runs
  # a copy of PROMPT_COMMAND, taken before this change).
  _credwatch_place || :
  _credwatch_precmd || :
  return 0
}
declare -ft _credwatch_settled

if [[ $- == *i* ]]; then
  # Not in a function (where bash hides a DEBUG trap set before)? And how deep in files.
  _credwatch_top=1
  [[ -z ${FUNCNAME[0]-} ]] || _credwatch_top=0
  _credwatch_install "$_credwatch_top" "${BASH_SOURCE[@]+${#BASH_SOURCE[@]}}" || :
fi
