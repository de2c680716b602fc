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
