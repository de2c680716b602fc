//! Shell completions and man pages, generated from the clap definitions, used by the real shells.

use crate::harness::{run_command, TestHome};

#[test]
fn bash_completes_subcommands_and_shells() {
    let home = TestHome::new();
    let script = home.run(&["completions", "bash"]);
    assert_eq!(script.code, 0);
    let file = home.write("credwatch.bash", &script.stdout);
    let complete = |words: &str, cword: usize| {
        let mut bash = home.program(
            "bash",
            &[
                "--norc",
                "-c",
                &format!(
                    "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; _credwatch credwatch \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                    file.display()
                ),
            ],
        );
        bash.env("PATH", "/usr/bin:/bin");
        run_command(bash).stdout
    };
    let subcommands = complete("credwatch sta", 1);
    assert_eq!(subcommands.trim(), "status");
    let all = complete("credwatch ''", 1);
    for command in ["status", "daemon", "export", "completions", "journal"] {
        assert!(all.lines().any(|l| l == command), "{all}");
    }
    let shells = complete("credwatch init ''", 2);
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.lines().any(|l| l == shell), "{shells}");
    }
}

#[test]
fn zsh_and_fish_completions_parse_in_the_real_shells() {
    let home = TestHome::new();
    for (shell, name, check) in [
        ("zsh", "_credwatch", vec!["zsh", "-n"]),
        ("fish", "credwatch.fish", vec!["fish", "--no-execute"]),
    ] {
        let script = home.run(&["completions", shell]);
        assert_eq!(script.code, 0);
        assert!(
            script.stdout.contains("status"),
            "{shell}: {}",
            script.stdout
        );
        let file = home.write(name, &script.stdout);
        let mut args: Vec<&str> = check[1..].to_vec();
        let path = file.to_str().unwrap().to_string();
        args.push(&path);
        let out = run_command(home.program(check[0], &args));
        assert_eq!(
            out.code, 0,
            "{shell} rejects its completions: {}",
            out.stderr
        );
    }
}

#[test]
fn generated_assets_include_a_man_page_per_command() {
    let home = TestHome::new();
    let out_dir = home.path("assets");
    credwatch::cmd::assets::generate(&out_dir).unwrap();
    for file in [
        "completions/credwatch.bash",
        "completions/_credwatch",
        "completions/credwatch.fish",
        "man/credwatch.1",
        "man/credwatch-status.1",
        "man/credwatch-export.1",
    ] {
        assert!(out_dir.join(file).is_file(), "{file}");
    }
    let page = std::fs::read_to_string(out_dir.join("man/credwatch.1")).unwrap();
    assert!(page.contains(".TH credwatch 1"), "{page}");
    assert!(page.contains("credwatch\\-status(1)"), "{page}");
}

/// The committed completions and man pages (what `cargo deb` packs) are what the code generates
/// now: a stale one fails here, with the command that refreshes them.
#[test]
fn the_packaged_assets_are_current() {
    let home = TestHome::new();
    let fresh = home.path("assets");
    credwatch::cmd::assets::generate(&fresh).unwrap();
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging");
    let mut compared = 0;
    for dir in ["completions", "man"] {
        let mut names: Vec<_> = std::fs::read_dir(fresh.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        let mut kept: Vec<_> = std::fs::read_dir(committed.join(dir))
            .unwrap_or_else(|e| panic!("packaging/{dir}: {e}"))
            .map(|e| e.unwrap().file_name())
            .collect();
        kept.sort();
        assert_eq!(
            names, kept,
            "packaging/{dir} is stale: run `cargo run --example generate-assets -- packaging`"
        );
        for name in names {
            let now = std::fs::read(fresh.join(dir).join(&name)).unwrap();
            let then = std::fs::read(committed.join(dir).join(&name)).unwrap();
            assert!(
                now == then,
                "packaging/{dir}/{} is stale: run `cargo run --example generate-assets -- packaging`",
                name.to_string_lossy()
            );
            compared += 1;
        }
    }
    assert!(compared > 10);
}

/// `credwatch status <TAB>` (and verify, journal, login, presets) offers credential names: the
/// presets' and the user's own, typed to completion in each real shell.
#[test]
fn each_shell_completes_a_users_own_credential_name() {
    use crate::pty::{each_shell, Shell};
    let home = TestHome::new();
    home.write_config(
        "[[credential]]\nname = \"my-token\"\nfile = \"~/.my-token\"\nformat = \"text\"\n",
    );
    let names = home.run(&["__complete-names"]);
    assert!(
        names.stdout.lines().any(|l| l == "my-token"),
        "{}",
        names.stdout
    );
    assert!(
        names.stdout.lines().any(|l| l == "claude"),
        "{}",
        names.stdout
    );
    let bin = home.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_credwatch"), bin.join("credwatch")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    each_shell(|shell| {
        let (generate, file, load) = match shell {
            Shell::Bash => ("bash", "credwatch.bash", "source {}".to_string()),
            Shell::Zsh => (
                "zsh",
                "_credwatch",
                "autoload -U compinit && compinit -u && source {}".to_string(),
            ),
            Shell::Fish => ("fish", "credwatch.fish", "source {}".to_string()),
        };
        let script = home.run(&["completions", generate]);
        let file = home.write(file, &script.stdout);
        let mut command = home.program(shell.name(), shell.argv());
        command.env("TERM", "dumb").env("PATH", &path);
        let pty = rexpect::session::spawn_command(command, Some(crate::pty::TIMEOUT_MS)).unwrap();
        let mut session = crate::pty::Session { pty };
        // The pty starts with echo off (rexpect's default), and bash's line editor then shows
        // nothing typed: a terminal as a person has it echoes.
        session.line("stty echo");
        session.line(&load.replace("{}", &file.display().to_string()));
        session.line(shell.prompt_setup());
        session.line(&format!("echo READY{}", shell.sum(1, 1)));
        session.expect("READY2");
        // Typed once the line editor is ready for it (input typed while a shell sets up its
        // terminal can be dropped): its prompt, drawn once the terminal is set up, is the sign.
        session.expect("[[P0::]]");
        session.keys("credwatch status my-t");
        session.expect("my-t");
        session.keys("\t");
        session.expect("oken");
        // The line is killed (Ctrl-U), not abandoned (Ctrl-C): the same line editor goes on
        // reading, with no new prompt and terminal set-up to wait for.
        session.keys("\x15");
        session.keys("credwatch journal cla");
        session.expect("cla");
        session.keys("\t");
        session.expect("ude");
    });
}
