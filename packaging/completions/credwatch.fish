# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_credwatch_global_optspecs
    string join \n config= h/help V/version
end

function __fish_credwatch_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_credwatch_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_credwatch_using_subcommand
    set -l cmd (__fish_credwatch_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c credwatch -n "__fish_credwatch_needs_command" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c credwatch -n "__fish_credwatch_needs_command" -s V -l version -d 'Print version'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "status" -d 'Every watched credential, its state, why, and the fix (the default command)'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "presets" -d 'The built-in credential definitions, or one of them as TOML'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "init" -d 'Print the shell hook: eval "$(credwatch init bash)", or `credwatch init fish | source`'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "prompt" -d 'The compact prompt segment (empty when all is well), for starship, tmux and other prompts'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "daemon" -d 'Watch credentials and publish their state (foreground; the systemd user service runs this)'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "journal" -d 'What happened to each credential: created, modified, blanked, deleted, state changes'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "login" -d 'Run a login command on this terminal, then prove the new login persisted (step by step)'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "verify" -d 'Check, step by step, that logins are stored, valid, private, persistent and accepted'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "doctor" -d 'The environment: D-Bus, keyring, runtime dir, daemon, shell hook, shadowing env vars, clock'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "unlock" -d 'Unlock the desktop keyring with its password, in place (also over SSH; asks without echo)'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "forget" -d 'Stop flagging a login you do not use here (until a new login of it appears)'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "export" -d 'Metrics in Prometheus text format, for node_exporter\'s textfile collector'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "completions" -d 'Shell completions: credwatch completions bash > /usr/share/bash-completion/completions/credwatch'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "config" -d 'Validate the config, print its path, or show the definitions in effect'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "__complete-names" -d 'The credential names, one per line (for the shell completions)'
complete -c credwatch -n "__fish_credwatch_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c credwatch -n "__fish_credwatch_using_subcommand status" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand status" -l json -d 'Machine-readable output (schema in docs/contract.md)'
complete -c credwatch -n "__fish_credwatch_using_subcommand status" -l live -d 'Evaluate now rather than reading a daemon\'s published state'
complete -c credwatch -n "__fish_credwatch_using_subcommand status" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand presets" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand presets" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand init" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand init" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand prompt" -l shell -d 'Keep it for the shell with this pid (its hook reads shell/PID.direct): each shell\'s direct check is made in its own environment' -r
complete -c credwatch -n "__fish_credwatch_using_subcommand prompt" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand prompt" -l cache -d 'Also keep the result for the shell hooks while no daemon runs'
complete -c credwatch -n "__fish_credwatch_using_subcommand prompt" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand daemon" -l grace -d 'After a credential is written, check again this long after that it stayed' -r
complete -c credwatch -n "__fish_credwatch_using_subcommand daemon" -l prometheus-textfile -d 'Keep this Prometheus textfile up to date (overrides `export.prometheus_textfile`)' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand daemon" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand journal" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand journal" -l json -d 'JSON lines, one event per line'
complete -c credwatch -n "__fish_credwatch_using_subcommand journal" -s f -l follow -d 'Then print new entries as the daemon writes them, until Ctrl-C'
complete -c credwatch -n "__fish_credwatch_using_subcommand journal" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand login" -l grace -d 'After the command, check again this long later that the login stayed' -r
complete -c credwatch -n "__fish_credwatch_using_subcommand login" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand login" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand verify" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand verify" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand doctor" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand doctor" -l json -d 'Machine-readable output'
complete -c credwatch -n "__fish_credwatch_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand unlock" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand unlock" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand forget" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand forget" -l undo -d 'Watch them again'
complete -c credwatch -n "__fish_credwatch_using_subcommand forget" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand export" -l output -d 'Write to FILE atomically (for node_exporter\'s textfile collector) instead of stdout' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand export" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand export" -l prometheus -d 'Prometheus text exposition format (the only format so far)'
complete -c credwatch -n "__fish_credwatch_using_subcommand export" -l live -d 'Evaluate now rather than reading a daemon\'s published state'
complete -c credwatch -n "__fish_credwatch_using_subcommand export" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand completions" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand completions" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and not __fish_seen_subcommand_from check path show help" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and not __fish_seen_subcommand_from check path show help" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and not __fish_seen_subcommand_from check path show help" -f -a "check" -d 'Parse and validate the config; errors name file:line:column (exit 2)'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and not __fish_seen_subcommand_from check path show help" -f -a "path" -d 'Print the config file\'s path'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and not __fish_seen_subcommand_from check path show help" -f -a "show" -d 'Print the credential definitions in effect, as TOML'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and not __fish_seen_subcommand_from check path show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Parse and validate the config; errors name file:line:column (exit 2)'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config file\'s path'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the credential definitions in effect, as TOML'
complete -c credwatch -n "__fish_credwatch_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c credwatch -n "__fish_credwatch_using_subcommand __complete-names" -l config -d 'Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]' -r -F
complete -c credwatch -n "__fish_credwatch_using_subcommand __complete-names" -s h -l help -d 'Print help'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "status" -d 'Every watched credential, its state, why, and the fix (the default command)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "presets" -d 'The built-in credential definitions, or one of them as TOML'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "init" -d 'Print the shell hook: eval "$(credwatch init bash)", or `credwatch init fish | source`'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "prompt" -d 'The compact prompt segment (empty when all is well), for starship, tmux and other prompts'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "daemon" -d 'Watch credentials and publish their state (foreground; the systemd user service runs this)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "journal" -d 'What happened to each credential: created, modified, blanked, deleted, state changes'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "login" -d 'Run a login command on this terminal, then prove the new login persisted (step by step)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "verify" -d 'Check, step by step, that logins are stored, valid, private, persistent and accepted'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "doctor" -d 'The environment: D-Bus, keyring, runtime dir, daemon, shell hook, shadowing env vars, clock'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "unlock" -d 'Unlock the desktop keyring with its password, in place (also over SSH; asks without echo)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "forget" -d 'Stop flagging a login you do not use here (until a new login of it appears)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "export" -d 'Metrics in Prometheus text format, for node_exporter\'s textfile collector'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "completions" -d 'Shell completions: credwatch completions bash > /usr/share/bash-completion/completions/credwatch'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "config" -d 'Validate the config, print its path, or show the definitions in effect'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "__complete-names" -d 'The credential names, one per line (for the shell completions)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and not __fish_seen_subcommand_from status presets init prompt daemon journal login verify doctor unlock forget export completions config __complete-names help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Parse and validate the config; errors name file:line:column (exit 2)'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config file\'s path'
complete -c credwatch -n "__fish_credwatch_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the credential definitions in effect, as TOML'
# Credential names (credwatch's own addition to clap's script).
function __fish_credwatch_names
    set -l config (string match -r -- '^--config=.*' (commandline -opc))
    set -l at (contains -i -- --config (commandline -opc))
    and set config --config (commandline -opc)[(math $at + 1)]
    credwatch $config __complete-names 2>/dev/null
end
complete -c credwatch -n "__fish_credwatch_using_subcommand status; and not __fish_seen_subcommand_from --" -f -a "(__fish_credwatch_names)" -d credential
complete -c credwatch -n "__fish_credwatch_using_subcommand verify; and not __fish_seen_subcommand_from --" -f -a "(__fish_credwatch_names)" -d credential
complete -c credwatch -n "__fish_credwatch_using_subcommand journal; and not __fish_seen_subcommand_from --" -f -a "(__fish_credwatch_names)" -d credential
complete -c credwatch -n "__fish_credwatch_using_subcommand login; and not __fish_seen_subcommand_from --" -f -a "(__fish_credwatch_names)" -d credential
complete -c credwatch -n "__fish_credwatch_using_subcommand presets; and not __fish_seen_subcommand_from --" -f -a "(__fish_credwatch_names)" -d credential
