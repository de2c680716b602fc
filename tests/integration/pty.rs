//! Real interactive shells in a pseudo-terminal, for the hook tests: a shell with the credwatch
//! hook sourced, what it printed, and what a user would read of it.

use crate::harness::{claude_login, TestHome};
use rexpect::session::PtySession;

pub const CREDS: &str = ".claude/.credentials.json";
/// One attempt to match; attempts repeat for up to 10 s.
pub const TIMEOUT_MS: u64 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

impl Shell {
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// Whether this shell is installed; if not, the test skips (`harness::require`: a failure
    /// under scripts/test, which installs bash, zsh and fish).
    pub fn available(self) -> bool {
        crate::harness::require(self.name(), "the hooks are tested in the real shells")
    }

    pub fn argv(self) -> &'static [&'static str] {
        match self {
            Shell::Bash => &["--norc", "--noprofile", "-i"],
            Shell::Zsh => &["-f", "-i"],
            Shell::Fish => &["--no-config", "-i"],
        }
    }

    /// A prompt that shows `$?`, `$CREDWATCH_PROMPT` and `$CREDWATCH_DAEMON` as `[[P1:⚠ claude:1]]`.
    pub fn prompt_setup(self) -> &'static str {
        match self {
            Shell::Bash => "PS1='[[P$?:${CREDWATCH_PROMPT-}:${CREDWATCH_DAEMON-}]]'",
            Shell::Zsh => "setopt prompt_subst; PROMPT='[[P%?:${CREDWATCH_PROMPT-}:${CREDWATCH_DAEMON-}]]'",
            Shell::Fish => "function fish_prompt; printf '[[P%s:%s:%s]]' $status \"$CREDWATCH_PROMPT\" \"$CREDWATCH_DAEMON\"; end",
        }
    }

    /// `a + b` computed by the shell: output that the echo of the typed line never matches.
    pub fn sum(self, a: u32, b: u32) -> String {
        match self {
            Shell::Fish => format!("(math {a} + {b})"),
            _ => format!("$(({a}+{b}))"),
        }
    }

    pub fn source(self, file: &std::path::Path) -> String {
        format!("source {}", file.display())
    }
}

/// An interactive shell in a pty, with the credwatch hook sourced.
pub struct Session {
    pub pty: PtySession,
}

impl Session {
    pub fn start(home: &TestHome, shell: Shell, before_hook: &[&str]) -> Session {
        let hook = home.home.join(format!("hook.{}", shell.name()));
        let init = crate::harness::run_command(home.command(&["init", shell.name()]));
        std::fs::write(&hook, init.stdout).unwrap();
        let mut command = home.program(shell.name(), shell.argv());
        command.env("TERM", "dumb").env("PATH", stub_path(home));
        let pty = rexpect::session::spawn_command(command, Some(TIMEOUT_MS)).expect("spawn shell");
        let mut session = Session { pty };
        session.line(shell.prompt_setup());
        for line in before_hook {
            session.line(line);
        }
        session.line(&shell.source(&hook));
        session
    }

    pub fn line(&mut self, text: &str) {
        self.pty.send_line(text).unwrap();
    }

    /// Types `text` without Enter.
    pub fn keys(&mut self, text: &str) {
        self.pty.send(text).unwrap();
        self.pty.flush().unwrap();
    }

    /// Waits (10 s at most) for `needle` and returns everything printed before it.
    pub fn expect(&mut self, needle: &str) -> String {
        self.expect_within(needle, 10)
    }

    pub fn expect_within(&mut self, needle: &str, seconds: u64) -> String {
        let started = std::time::Instant::now();
        loop {
            match self.pty.exp_string(&latin1(needle)) {
                Ok(text) => return utf8(&text),
                Err(e) if e.to_string().contains("EOF") => panic!("the shell exited: {e}"),
                Err(_) if started.elapsed().as_secs() < seconds => {}
                Err(e) => panic!("waiting for {needle:?}: {e}"),
            }
        }
    }

    /// Presses Enter (again every half second) until a prompt shows `prompt`; returns the
    /// output before it.
    pub fn enter_until(&mut self, prompt: &str) -> String {
        let started = std::time::Instant::now();
        let mut seen = String::new();
        loop {
            self.line("");
            match self.pty.exp_string(&latin1(prompt)) {
                Ok(before) => return seen + &utf8(&before),
                Err(e) if e.to_string().contains("EOF") => {
                    panic!("the shell exited: {e}\nseen: {seen}")
                }
                Err(_) if started.elapsed().as_secs() < 10 => {}
                Err(e) => panic!("no prompt {prompt:?} after 10 s: {e}\nseen: {seen}"),
            }
            seen.push('\n');
        }
    }
}

/// The lines a user would read in `text`, as a terminal shows them: a carriage return goes back
/// to the start of the line and what follows overwrites it, `ESC [ K` erases to the end of the
/// line (bash clears the line it redraws around a readline binding), other terminal control
/// sequences and the end-of-line marks zsh and fish print for output without a final newline
/// (`#`, `%`, `⏎`) are removed, blank lines dropped.
pub fn visible_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = Vec::new();
    let mut line: Vec<char> = Vec::new();
    let mut column = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    let mut last = ' ';
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() || c == '~' {
                            last = c;
                            break;
                        }
                    }
                    if last == 'K' {
                        line.truncate(column);
                    }
                }
                Some(']') => {
                    for c in chars.by_ref() {
                        if c == '\u{7}' {
                            break;
                        }
                    }
                }
                Some('(') => {
                    chars.next();
                }
                _ => {}
            },
            '\r' => column = 0,
            '\n' => {
                lines.push(std::mem::take(&mut line));
                column = 0;
            }
            '\u{7}' => {}
            '\u{8}' => column = column.saturating_sub(1),
            c => {
                if column < line.len() {
                    line[column] = c;
                } else {
                    line.push(c);
                }
                column += 1;
            }
        }
    }
    lines.push(line);
    lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>())
        .map(|l| {
            l.trim_matches(|c: char| c.is_whitespace() || matches!(c, '#' | '%' | '⏎'))
                .to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// rexpect reads the pty byte by byte as Latin-1: a UTF-8 needle must be spelled that way...
pub fn latin1(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

/// ...and what it returns decoded back.
pub fn utf8(text: &str) -> String {
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// PATH with a stub `claude` first, so a mapped command can run.
pub fn stub_path(home: &TestHome) -> String {
    let bin = home.home.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let claude = bin.join("claude");
    std::fs::write(&claude, "#!/bin/sh\necho stub claude ran\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display())
}

pub fn home_with_daemon() -> (TestHome, crate::harness::Daemon) {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    (home, daemon)
}

pub fn each_shell(test: impl Fn(Shell)) {
    for shell in SHELLS {
        if !shell.available() {
            continue;
        }
        test(shell);
    }
}

/// Writes the hook `credwatch init SHELL` prints into HOME, for an rc file to source.
pub fn hook_file(home: &TestHome, shell: Shell) -> std::path::PathBuf {
    let hook = home.home.join(format!("hook.{}", shell.name()));
    let init = crate::harness::run_command(home.command(&["init", shell.name()]));
    std::fs::write(&hook, init.stdout).unwrap();
    hook
}

/// Where `scripts/test` puts the tools no Debian package ships (starship, atuin, bash-preexec)
/// and the en_US.UTF-8 locale powerlevel9k needs.
pub fn tools_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools")
}

impl Session {
    /// An interactive shell that reads `rc` as its startup file, as a user's shell reads
    /// ~/.bashrc, ~/.zshrc or config.fish (zsh without the system-wide rc files, so only `rc`
    /// decides), with target/tools/bin and the stub `claude` on PATH, on an xterm (starship and
    /// liquidprompt switch themselves off on a dumb terminal).
    pub fn with_rc(home: &TestHome, shell: Shell, rc: &str, env: &[(&str, &str)]) -> Session {
        let path = format!("{}:{}", tools_dir().join("bin").display(), stub_path(home));
        let mut command = match shell {
            Shell::Bash => {
                let file = home.home.join(".bashrc");
                std::fs::write(&file, rc).unwrap();
                home.program(
                    "bash",
                    &["--noprofile", "--rcfile", file.to_str().unwrap(), "-i"],
                )
            }
            Shell::Zsh => {
                std::fs::write(home.home.join(".zshenv"), "setopt no_global_rcs\n").unwrap();
                std::fs::write(home.home.join(".zshrc"), rc).unwrap();
                let mut command = home.program("zsh", &["-i"]);
                command.env("ZDOTDIR", &home.home);
                command
            }
            Shell::Fish => {
                let file = home.config_home.join("fish/config.fish");
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, rc).unwrap();
                home.program("fish", &["-i"])
            }
        };
        command
            .env("TERM", "xterm")
            .env("PATH", path)
            .current_dir(&home.home);
        for (name, value) in env {
            command.env(name, value);
        }
        let pty = rexpect::session::spawn_command(command, Some(TIMEOUT_MS)).expect("spawn shell");
        Session { pty }
    }

    /// Runs `echo MARK-N` and returns what the shell printed after its output, up to and with
    /// the next prompt's `end` (the text a prompt framework drew for the next prompt).
    pub fn next_prompt(&mut self, shell: Shell, n: u32, end: &str) -> String {
        self.line(&format!("echo MARK-{}", shell.sum(n, 1000)));
        self.expect(&format!("MARK-{}", n + 1000));
        self.expect(end)
    }
}

/// The fenced code block that follows `<!-- recipe:NAME -->` in docs/shell.md: the recipe a
/// user copies is the one the tests run.
pub fn documented_recipe(name: &str) -> String {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/shell.md"),
    )
    .unwrap();
    let marker = format!("<!-- recipe:{name} -->");
    let after = &readme[readme
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/shell.md has no {marker}"))..];
    let block = &after[after.find("```").unwrap()..];
    let body = &block[block.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}
