//! Where users get burned (#27): the failures the tools' issue trackers repeat, each seen the way
//! the tool leaves it, and what credwatch says about it.

use crate::harness::{claude_login, replace_atomically, wait_until, TestHome, CANARY};
use crate::pty::{visible_lines, Session, Shell};
use std::process::Child;

/// Processes of this user whose command line is `program` (as a tool's sessions look in
/// /proc), working in the test's HOME, ended when dropped.
struct Sessions(Vec<Child>);

impl Sessions {
    fn start(home: &TestHome, program: &str, count: usize) -> Sessions {
        let children: Vec<Child> = (0..count)
            .map(|_| {
                home.program("bash", &["-c", &format!("exec -a {program} sleep 120")])
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in &children {
            let cmdline = format!("/proc/{}/cmdline", child.id());
            wait_until("the session's command line", || {
                std::fs::read(&cmdline).is_ok_and(|c| c.starts_with(program.as_bytes()))
            });
        }
        Sessions(children)
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The number N in "while N <tool> processes were running".
fn processes_said(reason: &str, tool: &str) -> Option<usize> {
    let (before, _) = reason.split_once(&format!(" {tool} processes were running"))?;
    before.rsplit(' ').next()?.parse().ok()
}

/// Claude Code's refresh race (anthropics/claude-code #25609 and others): several sessions
/// share one rotating refresh token; the one that loses a refresh writes the store back as a
/// logged-out copy. credwatch said only "accessToken is empty"; it says what happened, how many
/// sessions were running, and to log in once with the others closed, in `status` and in the
/// journal.
#[test]
fn a_login_overwritten_by_a_logged_out_copy_while_sessions_run_is_called_a_refresh_race() {
    let home = TestHome::new();
    let creds = home.write(".claude/.credentials.json", claude_login(true));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let _sessions = Sessions::start(&home, "claude", 3);
    // Sessions of another home's login are not this one's.
    let _elsewhere = Sessions::start(&TestHome::new(), "claude", 2);
    replace_atomically(&creds, claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let status = home.run(&["status", "--json", "claude"]);
    let claude = status.credential("claude");
    let reason = claude["reason"].as_str().unwrap();
    assert!(
        processes_said(reason, "Claude Code") == Some(3)
            && reason.starts_with("overwritten by a logged-out copy at ")
            && reason.contains("(a refresh race"),
        "{reason}"
    );
    assert!(
        reason.contains("accessToken in ~/.claude/.credentials.json is empty"),
        "the state's own reason is gone: {reason}"
    );
    assert_eq!(
        claude["fix"], "claude /login, once, with the other Claude Code sessions closed",
        "{claude}"
    );
    // The journal keeps it: the recorded transition says what happened.
    wait_until("the transition in the journal", || {
        home.journal().iter().any(|e| {
            e["name"] == "claude"
                && e["to"] == "logged-out"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("(a refresh race"))
        })
    });
    // A login again: the story is over.
    replace_atomically(&creds, claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    let reason = home
        .run(&["status", "--json", "claude"])
        .credential("claude")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!reason.contains("overwritten"), "{reason}");
}

/// The login in `~/.aws/sso/cache` as botocore writes it, ending `left` seconds from now (its
/// registration good for a day: the deadline is the SSO session's).
fn sso_cache(left: i64) -> String {
    let iso = |secs: i64| credwatch::support::timefmt::Timestamp::from_secs(secs).rfc3339();
    let now = crate::harness::now_secs();
    format!(
        r#"{{"startUrl": "https://example.awsapps.com/start", "region": "us-east-1", "accessToken": "{CANARY}", "expiresAt": "{}"}}"#,
        iso(now + left),
    )
}

const SSO_CACHE: &str = ".aws/sso/cache/0123456789abcdef.json";

const LONG_COMMANDS: &str = r#"presets = ["aws-sso"]
[long_commands]
"terraform apply" = { needs = "45m", logins = ["aws-sso"] }
"aws s3 sync" = "2h"
"aws s3 ls" = "1m"
"#;

/// Programs that say they ran, on the sessions' PATH (besides the pty's stub claude).
fn stub_programs(home: &TestHome) {
    use std::os::unix::fs::PermissionsExt;
    let bin = home.home.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in ["terraform", "aws"] {
        let path = bin.join(program);
        std::fs::write(&path, format!("#!/bin/sh\necho stub {program} ran\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A 30-minute `terraform apply` on a login with 10 minutes left is lost at its end. With
/// `[long_commands]`, the hooks warn before a long command that a login it uses would not
/// outlast, saying when it ends (the login still works: no flag), and not before one it
/// outlasts; the logins are the ones named, or those whose commands it runs (`aws s3 sync`:
/// aws-sso's `aws`).
#[test]
fn a_long_command_on_a_login_that_ends_sooner_is_warned_before_it_runs() {
    crate::pty::each_shell(|shell| {
        let home = TestHome::new();
        home.write_config(LONG_COMMANDS);
        // 90 minutes left: beyond the preset's 1 h warning window, short of 2 h.
        home.write(SSO_CACHE, sso_cache(90 * 60));
        stub_programs(&home);
        let _daemon = home.start_daemon(&[]);
        home.wait_for_state("aws-sso", "ok");
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        for (line, warned) in [
            ("terraform apply -auto-approve", false),
            ("aws s3 ls", false),
            ("aws s3 sync . s3://bucket", true),
        ] {
            let program = line.split(' ').next().unwrap();
            session.line(&format!("{line}; echo DONE-{}", shell.sum(40, 2)));
            let printed = session.expect("DONE-42");
            let lines = visible_lines(&printed);
            let warning = lines
                .iter()
                .position(|l| l.starts_with("credwatch: AWS CLI (SSO): the login ends at "));
            let ran = lines
                .iter()
                .position(|l| l.contains(&format!("stub {program} ran")));
            assert!(ran.is_some(), "{shell:?} {line}: {lines:?}");
            if warned {
                assert!(
                    warning < ran && warning.is_some(),
                    "{shell:?} {line}: no warning before it: {lines:?}"
                );
                let text = &lines[warning.unwrap()];
                assert!(
                    text.contains("before `aws s3 sync` is done (it needs 2 h)")
                        && text.ends_with("run first: aws sso login"),
                    "{shell:?}: {text}"
                );
            } else {
                assert_eq!(warning, None, "{shell:?} {line}: {lines:?}");
            }
            session.expect("[[P0::1]]");
        }
    });
}

/// The warning begins when the login's time left falls below what the command needs, with
/// nothing written: the daemon republishes then (its prompt file holds until that moment), and
/// the shell that waited at its prompt warns before the command; with CREDWATCH_CONFIRM=1 it
/// asks, and "n" runs nothing.
#[test]
fn a_long_command_warning_begins_when_the_time_left_falls_below_its_need() {
    if !Shell::Bash.available() {
        return; // (the skip is recorded, and fails under scripts/test)
    }
    let mut home = TestHome::new();
    home.set_env("CREDWATCH_CONFIRM", "1");
    home.write_config(LONG_COMMANDS);
    stub_programs(&home);
    let _daemon = home.start_daemon(&[]);
    // 45 minutes and 6 seconds: terraform apply (45 min) fits, for 6 more seconds.
    let written = std::time::Instant::now();
    home.write(SSO_CACHE, sso_cache(45 * 60 + 6));
    home.wait_for_state("aws-sso", "expiring");
    let prompt = home.credwatch_runtime().join("prompt");
    let has_line =
        || std::fs::read_to_string(&prompt).is_ok_and(|text| text.contains("\nterraform apply\t"));
    if written.elapsed().as_secs() < 5 {
        assert!(!has_line(), "warned while the login outlasts it");
    }
    wait_until("the warning before terraform apply", has_line);
    assert!(written.elapsed().as_secs() >= 5, "warned too early");
    let mut session = Session::start(&home, Shell::Bash, &[]);
    session.enter_until("[[P0::1]]");
    session.line("terraform apply; echo MARK-$((2+2))");
    let asked = session.expect("run it anyway? [y/N]");
    assert!(
        asked.contains("before `terraform apply` is done (it needs 45 min)"),
        "{asked}"
    );
    session.keys("n");
    session.line("echo END-$((3+3))");
    let declined = session.expect("END-6");
    assert!(
        !declined.contains("stub terraform ran") && !declined.contains("MARK-4"),
        "the declined line ran: {declined}"
    );
}

/// `config check` names what is wrong in `[long_commands]`, where, and the form to write.
#[test]
fn long_commands_that_cannot_be_checked_are_config_errors() {
    for (entry, said) in [
        (
            "\"terraform apply\" = \"soon\"",
            "\"soon\" (terraform apply) is not a duration",
        ),
        ("\"terraform apply\" = \"0s\"", "is not a duration"),
        ("\" \" = \"1h\"", "is not a command"),
        (
            "\"make deploy\" = { needs = \"1h\", logins = [\"awz\"] }",
            "names no credential \"awz\"",
        ),
        ("\"make\" = { needs = \"1h\", login = [\"aws-sso\"] }", ""),
    ] {
        let home = TestHome::new();
        home.write_config(format!("[long_commands]\n{entry}\n"));
        let out = home.run(&["config", "check"]);
        assert_eq!(out.code, 2, "{entry}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(said) && out.stderr.contains("config.toml:2:"),
            "{entry}: {}",
            out.stderr
        );
    }
    let home = TestHome::new();
    home.write_config(LONG_COMMANDS);
    let out = home.run(&["config", "check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Temporary AWS keys exported into a shell (aws-vault, awsume, `aws configure
/// export-credentials`) carry their deadline beside them. credwatch said only "AWS_ACCESS_KEY_ID
/// is set: not checked" (unknown), also an hour after they expired; it reads the deadline, in
/// the caller's shell, from the first of AWS_CREDENTIAL_EXPIRATION, AWS_SESSION_EXPIRATION and
/// AWSUME_EXPIRATION that holds a date.
#[test]
fn aws_keys_exported_with_their_expiration_were_unknown_after_it_passed() {
    let iso = |offset: i64| {
        credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() + offset)
            .rfc3339()
    };
    for (variable, offset, state, said) in [
        (
            "AWS_CREDENTIAL_EXPIRATION",
            -3600,
            "expired",
            "expired 60 min ago",
        ),
        (
            "AWS_SESSION_EXPIRATION",
            600,
            "expiring",
            "expire in 10 min",
        ),
        ("AWSUME_EXPIRATION", 86_400 * 30, "ok", "valid until"),
    ] {
        let mut home = TestHome::new();
        home.write_config("presets = [\"aws-keys\"]\n");
        home.write(
            ".aws/credentials",
            format!(
                "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = {CANARY}\n"
            ),
        );
        home.set_env("AWS_ACCESS_KEY_ID", "AKIAEXPORTED")
            .set_env("AWS_SECRET_ACCESS_KEY", CANARY)
            .set_env("AWS_SESSION_TOKEN", CANARY)
            .set_env(variable, iso(offset));
        let out = home.run(&["status", "--json", "aws-keys"]);
        let keys = out.credential("aws-keys");
        assert_eq!(keys["state"], state, "{variable}: {keys}");
        let reason = keys["reason"].as_str().unwrap();
        assert!(
            reason.contains(said)
                && reason.contains(variable)
                && reason.contains("not the stored login"),
            "{variable}: {reason}"
        );
        // (Read back to the second it was written: the test's clock may have moved on one.)
        let read = credwatch::support::timefmt::Timestamp::parse_datetime(
            keys["expires_at"].as_str().unwrap(),
        )
        .unwrap();
        let written = credwatch::support::timefmt::Timestamp::parse_datetime(&iso(offset)).unwrap();
        assert!((read.millis() - written.millis()).abs() <= 2000, "{keys}");
        assert_eq!(
            out.code == 0,
            state != "expired",
            "{variable}: exit {}",
            out.code
        );
        if state != "ok" {
            assert!(
                keys["fix"]
                    .as_str()
                    .unwrap()
                    .starts_with("get new ones from the tool that set them"),
                "{keys}"
            );
        }
        assert!(!out.stdout.contains(CANARY));
    }
    // Without a deadline beside them, they stay unchecked.
    let mut home = TestHome::new();
    home.write_config("presets = [\"aws-keys\"]\n");
    home.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = A\naws_secret_access_key = B\n",
    );
    home.set_env("AWS_ACCESS_KEY_ID", "AKIAEXPORTED");
    let keys = home
        .run(&["status", "--json", "aws-keys"])
        .credential("aws-keys");
    assert_eq!(keys["state"], "unknown", "{keys}");
}

/// The same per shell, through the daemon: a shell that exported expired keys is flagged and
/// warned before `aws`; another shell, without them, is not.
#[test]
fn a_shell_with_expired_exported_aws_keys_is_flagged_and_another_is_not() {
    if !Shell::Bash.available() {
        return; // (the skip is recorded, and fails under scripts/test)
    }
    let home = TestHome::new();
    home.write_config("presets = [\"aws-keys\"]\n");
    home.write(
        ".aws/credentials",
        format!("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = {CANARY}\n"),
    );
    stub_programs(&home);
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("aws-keys", "ok");
    let expired =
        credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() - 600)
            .rfc3339();
    let mut exported = Session::start(
        &home,
        Shell::Bash,
        &[&format!(
            "export AWS_ACCESS_KEY_ID=AKIAEXPORTED AWS_SECRET_ACCESS_KEY={CANARY} AWS_SESSION_TOKEN={CANARY} AWS_CREDENTIAL_EXPIRATION={expired}"
        )],
    );
    let mut plain = Session::start(&home, Shell::Bash, &[]);
    // (The variables that decide instead of the store are marked, as always.)
    let marks = "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN";
    exported.enter_until(&format!("[[P0:⚠ aws-keys {marks}:1]]"));
    exported.line("aws s3 ls; echo DONE-$((40+2))");
    let printed = exported.expect("DONE-42");
    let lines = visible_lines(&printed);
    let warning = lines
        .iter()
        .position(|l| l.starts_with("credwatch: AWS CLI (access keys): AWS_ACCESS_KEY_ID"));
    let ran = lines.iter().position(|l| l.contains("stub aws ran"));
    assert!(warning.is_some() && warning < ran, "{lines:?}");
    assert!(lines[warning.unwrap()].contains("expired"), "{lines:?}");
    plain.enter_until("[[P0::1]]");
    // New keys exported in the same shell clear it.
    let later =
        credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() + 86_400)
            .rfc3339();
    exported.line(&format!("export AWS_CREDENTIAL_EXPIRATION={later}"));
    exported.enter_until(&format!("[[P0:{marks}:1]]"));
}

/// Tools that write temporary keys into `~/.aws/credentials` write their deadline beside them,
/// each under its own name (saml2aws, gimme-aws-creds, others): each is read.
#[test]
fn aws_credentials_file_deadlines_under_each_tools_name_are_read() {
    let past = credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() - 60)
        .rfc3339();
    for key in [
        "aws_expiration",
        "x_security_token_expires",
        "aws_credential_expiration",
        "expiration",
    ] {
        let home = TestHome::new();
        home.write_config("presets = [\"aws-keys\"]\n");
        home.write(
            ".aws/credentials",
            format!(
                "[default]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = {CANARY}\naws_session_token = {CANARY}\n{key} = {past}\n"
            ),
        );
        let keys = home
            .run(&["status", "--json", "aws-keys"])
            .credential("aws-keys");
        assert_eq!(keys["state"], "expired", "{key}: {keys}");
        assert_eq!(keys["expires_at"], past, "{key}: {keys}");
    }
}

/// A kubeconfig user whose exec plugin is `aws eks get-token --profile dev` works only while
/// the AWS login of profile dev does. kubectl wrote the kubeconfig, the real aws CLI in the
/// plugin refuses the expired SSO session and kubectl fails; credwatch said kube was `ok`. It
/// follows the chain: kube is expired, naming the plugin, the profile and the SSO login, with
/// that login's fix for that profile; a new SSO login clears it, in `status` and in the daemon.
#[test]
fn a_kube_login_through_an_expired_aws_sso_login_was_ok() {
    let home = TestHome::new();
    home.write_config("presets = [\"kube\", \"aws-sso\"]\n");
    let start_url = "https://example.awsapps.com/start";
    home.write(
        ".aws/config",
        format!("[profile dev]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n"),
    );
    // Named as botocore names it: the SHA-1 of the start URL.
    let sha1 = crate::clients::ok(&home, "sha1sum", &[], start_url).stdout;
    let cache = format!(".aws/sso/cache/{}.json", sha1.split(' ').next().unwrap());
    home.write(&cache, sso_cache(-600));
    // By its path, as `aws eks update-kubeconfig` writes it (kubectl runs it with its own PATH).
    let aws = format!("--exec-command={}", crate::clients::client("aws").display());
    for args in [
        &[
            "config",
            "set-cluster",
            "eks",
            "--server=https://127.0.0.1:1",
        ][..],
        &[
            "config",
            "set-credentials",
            "dev",
            "--exec-api-version=client.authentication.k8s.io/v1beta1",
            &aws,
            "--exec-arg=eks",
            "--exec-arg=get-token",
            "--exec-arg=--cluster-name",
            "--exec-arg=demo",
            "--exec-arg=--profile",
            "--exec-arg=dev",
        ],
        &[
            "config",
            "set-context",
            "eks",
            "--cluster=eks",
            "--user=dev",
        ],
        &["config", "use-context", "eks"],
    ] {
        crate::clients::ok(&home, "kubectl", args, "");
    }
    // The plugin runs the real aws CLI: it refuses the expired session, and kubectl fails.
    let kubectl = crate::clients::run_client(&home, "kubectl", &["get", "pods"], "");
    assert_ne!(kubectl.code, 0);
    assert!(
        kubectl
            .stderr
            .contains("SSO session associated with this profile has expired"),
        "{}",
        kubectl.stderr
    );
    let kube = home.run(&["status", "--json", "kube"]).credential("kube");
    assert_eq!(kube["state"], "expired", "{kube}");
    let reason = kube["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its login plugin runs `aws eks get-token` with AWS profile dev, and the AWS CLI (SSO) login (aws-sso) is expired"),
        "{reason}"
    );
    assert_eq!(kube["fix"], "aws sso login --profile dev", "{kube}");
    // The warning before kubectl names the root cause (the daemon's prompt file).
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("kube", "expired");
    let prompt = std::fs::read_to_string(home.credwatch_runtime().join("prompt")).unwrap();
    assert!(
        prompt.contains("kubectl\tcredwatch: kubectl: its login plugin runs `aws eks get-token` with AWS profile dev")
            && prompt.contains("run: aws sso login --profile dev"),
        "{prompt}"
    );
    // A new SSO login: the chain holds again (the daemon judges kube again when aws-sso changes).
    home.write(&cache, sso_cache(8 * 3600));
    home.wait_for_state("aws-sso", "ok");
    home.wait_for_state("kube", "ok");
}

/// `credwatch presets NAME` says which of these failures it follows for the preset, every preset
/// a valid config still; here, the presets each case was built for.
#[test]
fn presets_say_which_burns_they_follow() {
    let home = TestHome::new();
    for (name, said) in [
        ("claude", "refresh races:"),
        ("codex", "refresh races:"),
        ("aws-sso", "long commands:"),
        ("aws-keys", "judged by AWS_CREDENTIAL_EXPIRATION, AWS_SESSION_EXPIRATION, AWSUME_EXPIRATION"),
        ("kube", "chains: a user whose exec plugin runs the AWS CLI"),
        ("kube", "or the OCI CLI with a session token"),
        ("gh", "several accounts: each listed"),
        ("aws-keys", "several accounts: each listed"),
        ("aws-sso", "which login the next command uses: while the SSO session is expired, the role credentials"),
        ("kube", "several accounts: each listed"),
        ("gemini", "the active account: ${GEMINI_CLI_HOME:-~}/.gemini/google_accounts.json naming none at /active is logged out"),
        ("gh", "GH_TOKEN, GITHUB_TOKEN, GH_ENTERPRISE_TOKEN, GITHUB_ENTERPRISE_TOKEN set in a shell decide instead of the store, checked with the server when asked"),
        ("gh", "the server's word: GH_TOKEN or GITHUB_TOKEN of the shell sent to https://api.github.com/user, when asked"),
        ("claude", "decide instead of the store, not checked (unknown)"),
        ("podman", "kept only until logout: said while it is usable"),
        ("kerberos", "kept in memory by design: on a tmpfs, said to last only until the next reboot"),
    ] {
        let out = home.run(&["presets", name]);
        assert_eq!(out.code, 0);
        let follows = out
            .stdout
            .split("# What credwatch follows for it, beyond its store:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: {}", out.stdout));
        assert!(follows.contains(said), "{name}: {follows}");
    }
    // Not claimed where it does not apply.
    let vault = home.run(&["presets", "vault"]).stdout;
    assert!(
        !vault.contains("refresh races:")
            && !vault.contains("several accounts")
            && !vault.contains("kept only until"),
        "{vault}"
    );
    // Each preset's text is still a config to copy.
    for name in crate::harness::all_presets() {
        let text = home.run(&["presets", name]).stdout;
        let copy = TestHome::new();
        copy.write_config(&text);
        let check = copy.run(&["config", "check"]);
        assert_eq!(check.code, 0, "{name}: {}", check.stderr);
    }
}

/// A GitHub API on 127.0.0.1: `/user` answers 200 with `github-authentication-token-expiration`
/// for the token `good-…`, 401 for any other; counts the requests that carried a token.
struct GitHubApi {
    port: u16,
    with_token: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl GitHubApi {
    fn start(expires: &str) -> GitHubApi {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let with_token = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = with_token.clone();
        let expires = expires.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut good = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("authorization:") {
                        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        good = value.trim().starts_with("bearer good-");
                    }
                }
                let mut stream = stream;
                let _ = if good {
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ngithub-authentication-token-expiration: {expires}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                    )
                } else {
                    write!(
                        stream,
                        "HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                    )
                };
            }
        });
        GitHubApi { port, with_token }
    }

    fn token_requests(&self) -> usize {
        self.with_token.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A GH_TOKEN in the shell decides what gh uses: credwatch said only "not checked" (unknown),
/// for a revoked token too. `credwatch verify gh` sends that token (only when asked, only it) to
/// the API gh uses: accepted, with its deadline from `github-authentication-token-expiration`;
/// or rejected, with the fix. Without one set, no token is sent anywhere. (The preset's own
/// definition, printed by `credwatch presets gh`, with its URL pointed at a local API.)
#[test]
fn a_gh_token_in_the_shell_was_never_checked_with_the_server() {
    let in_ten_days =
        credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() + 10 * 86_400);
    let (date, time) = in_ten_days
        .rfc3339()
        .trim_end_matches('Z')
        .split_once('T')
        .map(|(d, t)| (d.to_string(), t.to_string()))
        .unwrap();
    let api = GitHubApi::start(&format!("{date} {time} UTC"));
    let mut home = TestHome::new();
    let preset = home.run(&["presets", "gh"]).stdout.replace(
        "https://api.github.com/user",
        &format!("http://127.0.0.1:{}/user", api.port),
    );
    home.write_config(&preset);
    home.write(
        ".config/gh/hosts.yml",
        format!(
            "github.com:\n    oauth_token: {CANARY}\n    user: octocat\n    git_protocol: https\n"
        ),
    );
    // No token in the shell: nothing is sent.
    let verify = home.run(&["verify", "gh"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("the server was not asked (its probe sends only GH_TOKEN, GITHUB_TOKEN, and none is set)"),
        "{}",
        verify.stdout
    );
    assert_eq!(api.token_requests(), 0);
    // A working token: accepted, valid until the server's date.
    home.set_env("GH_TOKEN", format!("good-{CANARY}"));
    let verify = home.run(&["verify", "gh"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("the server accepts it (HTTP 200)")
            && verify
                .stdout
                .contains(&format!("valid until {}", in_ten_days.human())),
        "{}",
        verify.stdout
    );
    assert_eq!(api.token_requests(), 1);
    // `status` does not send it (nothing but `verify` does).
    let gh = home.run(&["status", "--json", "gh"]).credential("gh");
    assert_eq!(gh["state"], "unknown", "{gh}");
    assert_eq!(api.token_requests(), 1);
    // A revoked token: rejected, and the fix is about the variable.
    home.set_env("GH_TOKEN", format!("revoked-{CANARY}"));
    let verify = home.run(&["verify", "gh"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains("the server rejects GH_TOKEN (HTTP 401")
            && verify
                .stdout
                .contains("set a working token in GH_TOKEN, or unset GH_TOKEN"),
        "{}",
        verify.stdout
    );
    assert!(!verify.stdout.contains(CANARY) && !verify.stderr.contains(CANARY));
}

/// Gemini CLI decides "logged in" from `google_accounts.json` too: with `"active": null` it asks
/// to sign in again although `oauth_creds.json` holds a valid token (gemini-cli #26727), and
/// credwatch said `ok`. That record naming no account is `logged-out`, saying why; naming one,
/// or absent (an older CLI), the token decides as before.
#[test]
fn gemini_with_no_active_account_was_ok() {
    let home = TestHome::new();
    home.write_config("presets = [\"gemini\"]\n");
    let in_an_hour = (crate::harness::now_secs() + 3600) * 1000;
    home.write(
        ".gemini/oauth_creds.json",
        format!(r#"{{"access_token": "{CANARY}", "refresh_token": "{CANARY}", "token_type": "Bearer", "expiry_date": {in_an_hour}}}"#),
    );
    let state = |home: &TestHome| {
        home.run(&["status", "--json", "gemini"])
            .credential("gemini")
    };
    assert_eq!(state(&home)["state"], "ok", "no record: the token decides");
    home.write(
        ".gemini/google_accounts.json",
        r#"{"active": "me@example.com", "old": []}"#,
    );
    assert_eq!(state(&home)["state"], "ok");
    home.write(
        ".gemini/google_accounts.json",
        r#"{"active": null, "old": ["me@example.com"]}"#,
    );
    let gemini = state(&home);
    assert_eq!(gemini["state"], "logged-out", "{gemini}");
    assert!(
        gemini["reason"]
            .as_str()
            .unwrap()
            .starts_with("~/.gemini/google_accounts.json names no active account: Gemini CLI asks to sign in again"),
        "{gemini}"
    );
    // The daemon follows that file too.
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("gemini", "logged-out");
    home.write(
        ".gemini/google_accounts.json",
        r#"{"active": "me@example.com", "old": []}"#,
    );
    home.wait_for_state("gemini", "ok");
}

/// podman keeps its login in the runtime directory, which the system removes when the user's
/// last session ends and at reboot. The real podman logs in to a loopback registry: the login is
/// `ok` and said to last only until logout (`kept_until`); `podman logout` is the tool's own
/// logout (logged-out); the runtime directory removed and made again (a new session, as
/// systemd-logind does it) is told as lost at logout, and the same after another boot (the
/// memory of a previous boot, as the disk holds it after a reboot) as lost at reboot — where
/// credwatch said only "no credential at …", like a logout.
#[test]
fn a_podman_login_lost_at_logout_or_reboot_was_told_as_a_plain_missing_login() {
    let podman = std::path::Path::new("/usr/bin/podman");
    assert!(
        podman.is_file(),
        "podman is not installed: run scripts/test, which installs it"
    );
    let home = TestHome::new();
    let registry = crate::docker::registry();
    let login = || {
        let (code, _, stderr) = crate::docker::run(
            &home,
            podman,
            &[
                "login",
                "--tls-verify=false",
                "-u",
                "alice",
                "--password-stdin",
                &registry,
            ],
            CANARY,
        );
        assert_eq!(code, 0, "podman login: {stderr}");
    };
    login();
    let auth = home.runtime_dir.join("containers/auth.json");
    assert!(
        auth.is_file(),
        "podman wrote its login where credwatch looks"
    );
    let podman_state = || home.status(&["podman"]).credential("podman");
    let c = podman_state();
    assert_eq!(c["state"], "ok", "{c:#}");
    assert_eq!(c["kept_until"], "logout", "{c:#}");
    let reason = c["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "kept only until you log out: it is in your runtime directory ({}), which is removed when your last session ends",
            home.runtime_dir.display()
        )),
        "{reason}"
    );

    // The tool's own logout: the entry is gone from a file that stays.
    let (code, _, stderr) = crate::docker::run(&home, podman, &["logout", &registry], "");
    assert_eq!(code, 0, "podman logout: {stderr}");
    let c = podman_state();
    assert_eq!(c["state"], "logged-out", "{c:#}");
    assert!(!c["reason"].as_str().unwrap().contains("lost"), "{c:#}");

    // The session ends: the runtime directory goes; the next session has a new one.
    login();
    assert_eq!(podman_state()["state"], "ok");
    std::fs::remove_dir_all(&home.runtime_dir).unwrap();
    std::fs::create_dir(&home.runtime_dir).unwrap();
    std::fs::set_permissions(
        &home.runtime_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let c = podman_state();
    assert_eq!(c["state"], "missing", "{c:#}");
    let reason = c["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "lost when you logged out: Podman keeps its login in your runtime directory"
        ),
        "{reason}"
    );
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .starts_with("podman login REGISTRY (again after each logout"),
        "{c:#}"
    );

    // Logged in again in this session; then the machine restarts: another boot, and the
    // runtime directory empty again.
    login();
    assert_eq!(podman_state()["kept_until"], "logout");
    let seen_path = home.state_home.join("credwatch/seen.json");
    let mut seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seen_path).unwrap()).unwrap();
    let kept = &mut seen["credentials"]["podman"]["kept"];
    assert!(kept["boot"].is_string(), "the boot is remembered: {seen:#}");
    kept["boot"] = "00000000-0000-4000-8000-000000000000".into();
    std::fs::write(&seen_path, seen.to_string()).unwrap();
    std::fs::remove_file(&auth).unwrap();
    let c = podman_state();
    assert_eq!(c["state"], "missing", "{c:#}");
    let reason = c["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("lost at reboot (the machine started again at "),
        "{reason}"
    );
    assert!(
        reason.contains("Podman keeps its login only until the machine restarts"),
        "{reason}"
    );
}

/// A Kerberos ticket cache on a file system held in memory (a tmpfs: /tmp on many systems,
/// /dev/shm here) is where kinit keeps it by design: `ok`, and said to last only until the next
/// reboot (credwatch said nothing of it).
#[test]
fn a_ticket_cache_in_memory_was_not_said_to_last_only_until_reboot() {
    let home = TestHome::new();
    let shm = tempfile::Builder::new()
        .prefix("cw-krb5-")
        .tempdir_in("/dev/shm")
        .unwrap();
    let cache = shm.path().join("krb5cc");
    std::fs::write(
        &cache,
        crate::harness::kerberos_ccache(crate::harness::now_secs() + 8 * 3600),
    )
    .unwrap();
    std::fs::set_permissions(&cache, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut home = home;
    home.set_env("KRB5CCNAME", &cache);
    let c = home.status(&["kerberos"]).credential("kerberos");
    assert_eq!(c["state"], "ok", "{c:#}");
    assert_eq!(c["kept_until"], "reboot", "{c:#}");
    let reason = c["reason"].as_str().unwrap();
    assert!(
        reason
            .ends_with("kept only until the next reboot: it is on tmpfs, which is held in memory"),
        "{reason}"
    );
    // On a disk: nothing of the kind.
    let disk = home.path("krb5cc");
    std::fs::copy(&cache, &disk).unwrap();
    home.set_env("KRB5CCNAME", &disk);
    let c = home.status(&["kerberos"]).credential("kerberos");
    assert_eq!(c["state"], "ok", "{c:#}");
    assert!(c.get("kept_until").is_none(), "{c:#}");
}

/// The chain through the OCI CLI: `oci ce cluster generate-token … --profile work --auth
/// security_token` (as `oci ce cluster create-kubeconfig --with-auth-context` writes it; here by
/// the real kubectl) signs with the session of profile work, whose token (`oci session
/// authenticate`: a JWT of at most 60 minutes) ended; credwatch said kube was `ok`. Now kube is
/// expired, naming the plugin, the profile and the session, with `oci session refresh
/// --profile work`. With an API key (no `--auth security_token`) nothing ends: no chain.
#[test]
fn a_kube_login_through_an_expired_oci_session_was_ok() {
    let home = TestHome::new();
    home.write_config("presets = [\"kube\"]\n");
    let token = ".oci/sessions/work/token";
    home.write(
        token,
        crate::harness::jwt_with_exp(crate::harness::now_secs() - 300),
    );
    let user = |auth: bool| {
        let mut args = vec![
            "config".to_string(),
            "set-credentials".into(),
            "oke".into(),
            "--exec-api-version=client.authentication.k8s.io/v1beta1".into(),
            "--exec-command=oci".into(),
        ];
        for arg in [
            "ce",
            "cluster",
            "generate-token",
            "--cluster-id",
            "ocid1.cluster.oc1..x",
            "--region",
            "eu-frankfurt-1",
            "--profile",
            "work",
        ] {
            args.push(format!("--exec-arg={arg}"));
        }
        if auth {
            args.push("--exec-arg=--auth".into());
            args.push("--exec-arg=security_token".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::clients::ok(&home, "kubectl", &args, "");
    };
    for args in [
        &[
            "config",
            "set-cluster",
            "oke",
            "--server=https://127.0.0.1:1",
        ][..],
        &[
            "config",
            "set-context",
            "oke",
            "--cluster=oke",
            "--user=oke",
        ],
        &["config", "use-context", "oke"],
    ] {
        crate::clients::ok(&home, "kubectl", args, "");
    }
    user(true);
    let kube = home.run(&["status", "--json", "kube"]).credential("kube");
    assert_eq!(kube["state"], "expired", "{kube}");
    let reason = kube["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its login plugin runs `oci ce cluster` with OCI profile work, and the OCI CLI (session) login (oci-session) is expired"),
        "{reason}"
    );
    assert_eq!(
        kube["fix"],
        "oci session refresh --profile work (or, once the session ended: oci session authenticate)",
        "{kube}"
    );
    // Signed with the profile's API key: the session's end is not kubectl's.
    user(false);
    let kube = home.run(&["status", "--json", "kube"]).credential("kube");
    assert_eq!(kube["state"], "ok", "{kube}");
}

/// The chain through kubelogin: a kubeconfig user whose exec plugin is `kubectl oidc-login
/// get-token` (written by the real kubectl, as kubelogin's setup prints it) gets its token from
/// kubelogin's cache; that cache's ID token expired with no refresh token, so the next kubectl
/// command opens a browser login (or fails over SSH); credwatch said kube was `ok`. Now kube is
/// expired, naming the plugin and the kubelogin login, with its fix; a fresh token clears it.
#[test]
fn a_kube_login_through_an_expired_kubelogin_token_was_ok() {
    let home = TestHome::new();
    home.write_config("presets = [\"kube\", \"kubelogin\"]\n");
    let cache =
        ".kube/cache/oidc-login/0c5f9e1b7a3d4e2f8b6a1c9d0e7f3a2b5c4d8e6f1a0b9c7d3e2f4a5b6c8d9e0f";
    let token = |exp: i64| format!(r#"{{"id_token":"{}"}}"#, crate::harness::jwt_with_exp(exp));
    home.write(cache, token(crate::harness::now_secs() - 600));
    for args in [
        &[
            "config",
            "set-cluster",
            "oidc",
            "--server=https://127.0.0.1:1",
        ][..],
        &[
            "config",
            "set-credentials",
            "oidc",
            "--exec-api-version=client.authentication.k8s.io/v1beta1",
            "--exec-command=kubectl",
            "--exec-arg=oidc-login",
            "--exec-arg=get-token",
            "--exec-arg=--oidc-issuer-url=https://issuer.example.com",
            "--exec-arg=--oidc-client-id=kubernetes",
        ],
        &[
            "config",
            "set-context",
            "oidc",
            "--cluster=oidc",
            "--user=oidc",
        ],
        &["config", "use-context", "oidc"],
    ] {
        crate::clients::ok(&home, "kubectl", args, "");
    }
    let kube = home.run(&["status", "--json", "kube"]).credential("kube");
    assert_eq!(kube["state"], "expired", "{kube}");
    let reason = kube["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its login plugin runs `kubectl oidc-login get-token`, and the kubelogin (OIDC) login (kubelogin) is expired"),
        "{reason}"
    );
    assert!(
        kube["fix"]
            .as_str()
            .unwrap()
            .starts_with("kubectl oidc-login get-token"),
        "{kube}"
    );
    home.write(cache, token(crate::harness::now_secs() + 3600));
    let kube = home.run(&["status", "--json", "kube"]).credential("kube");
    assert_eq!(kube["state"], "ok", "{kube}");
}

/// The AWS CLI v2 caches an SSO profile's role credentials in `~/.aws/cli/cache` and the next
/// command uses them while they last, even after the SSO session expired (aws/aws-cli #9845):
/// credwatch said aws-sso was expired, flagged the prompt and warned before `aws`, while `aws`
/// still worked for the next 40 minutes. Now it says which one the next command uses, until
/// when; once they end, the session's state again. The cache file is named by aws-cli 2.9.19's
/// own code (Debian's awscli: `SSOCredentialFetcher._create_cache_key`), its content as that
/// version writes it.
#[test]
fn an_expired_sso_session_with_role_credentials_still_cached_was_said_to_fail_the_next_command() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"aws-sso\"]\n");
    let start_url = "https://example.awsapps.com/start";
    home.write(
        ".aws/config",
        format!("[profile dev]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n"),
    );
    home.set_env("AWS_PROFILE", "dev");
    let sha1 = crate::clients::ok(&home, "sha1sum", &[], start_url).stdout;
    home.write(
        &format!(".aws/sso/cache/{}.json", sha1.split(' ').next().unwrap()),
        sso_cache(-600),
    );
    let python = std::path::Path::new("/usr/bin/python3");
    assert!(
        std::path::Path::new("/usr/bin/aws").is_file(),
        "Debian's awscli (v2) is not installed: run scripts/test, which installs it"
    );
    let key = crate::clients::ok(
        &home,
        python.to_str().unwrap(),
        &[
            "-c",
            &format!("import awscli\nfrom botocore.credentials import SSOCredentialFetcher as F\nf = F.__new__(F)\nf._role_name, f._account_id, f._sso_session_name, f._start_url = 'Dev', '123456789012', None, '{start_url}'\nprint(f._create_cache_key())"),
        ],
        "",
    )
    .stdout;
    let role_cache = format!(".aws/cli/cache/{}.json", key.trim());
    let iso = |secs: i64| credwatch::support::timefmt::Timestamp::from_secs(secs).rfc3339();
    let role = |expires: i64| {
        format!(
            r#"{{"ProviderType": "sso", "Credentials": {{"AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "SecretAccessKey": "{CANARY}", "SessionToken": "{CANARY}", "Expiration": "{}"}}}}"#,
            iso(expires).replace(".000", "")
        )
    };
    let now = crate::harness::now_secs();
    home.write(&role_cache, role(now + 40 * 60));
    let out = home.run(&["status", "--json", "aws-sso"]);
    let sso = out.credential("aws-sso");
    assert_eq!(sso["state"], "expiring", "usable for 40 min: {sso}");
    assert_eq!(out.code, 0, "{}", out.stdout);
    let reason = sso["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!(
            "the next command uses the role credentials the AWS CLI cached for profile dev (~/.aws/cli/cache/{}.json), which last until ",
            key.trim()
        )) && reason.contains("the session behind them will not renew them: "),
        "{reason}"
    );
    assert_eq!(sso["fix"], "aws sso login", "{sso}");
    assert_eq!(sso["expires_at"], iso(now + 40 * 60), "{sso}");
    // Another SSO profile (another role) has its own cache file, none here: the session
    // decides for it; and once dev's role credentials end, for dev too.
    home.write(
        ".aws/config",
        format!("[profile dev]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n[profile admin]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Admin\n"),
    );
    assert_eq!(
        home.status(&["aws-sso"]).credential("aws-sso")["state"],
        "expiring"
    );
    home.set_env("AWS_PROFILE", "admin");
    assert_eq!(
        home.status(&["aws-sso"]).credential("aws-sso")["state"],
        "expired"
    );
    home.set_env("AWS_PROFILE", "dev");
    home.write(&role_cache, role(now - 60));
    let sso = home.status(&["aws-sso"]).credential("aws-sso");
    assert_eq!(sso["state"], "expired", "{sso}");
    assert!(
        !sso["reason"].as_str().unwrap().contains("role credentials"),
        "{sso}"
    );
    // The daemon follows the role cache too (the CLI writes new role credentials): expiring
    // again, without a change to the SSO cache.
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("aws-sso", "expired");
    home.write(&role_cache, role(now + 40 * 60));
    home.wait_for_state("aws-sso", "expiring");
}

/// docker's Amazon ECR credential helper (`"credHelpers": {"ACCOUNT.dkr.ecr.REGION.amazonaws.com":
/// "ecr-login"}`, as its README has users write it) gets each pull's token with the AWS login in
/// force: with the SSO session expired every pull from that registry fails, while credwatch said
/// docker was logged out ("holds no login": a config with helpers only) or fine. Now docker
/// follows the chain to the AWS login, names it and its fix; a new SSO login clears it.
#[test]
fn docker_through_the_ecr_credential_helper_on_an_expired_aws_login_was_logged_out() {
    let home = TestHome::new();
    home.write_config("presets = [\"docker\", \"aws-sso\"]\n");
    home.write(
        ".docker/config.json",
        r#"{"credHelpers": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"}}"#,
    );
    let start_url = "https://example.awsapps.com/start";
    home.write(
        ".aws/config",
        format!("[default]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\n"),
    );
    let sha1 = crate::clients::ok(&home, "sha1sum", &[], start_url).stdout;
    let cache = format!(".aws/sso/cache/{}.json", sha1.split(' ').next().unwrap());
    home.write(&cache, sso_cache(-600));
    let docker = home.status(&["docker"]).credential("docker");
    assert_eq!(docker["state"], "expired", "{docker}");
    let reason = docker["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its login plugin runs `docker-credential-ecr-login`, and the AWS CLI (SSO) login (aws-sso) is expired"),
        "{reason}"
    );
    assert_eq!(docker["fix"], "aws sso login", "{docker}");
    // The helper as the store of every registry: the same.
    home.write(".docker/config.json", r#"{"credsStore": "ecr-login"}"#);
    let docker = home.status(&["docker"]).credential("docker");
    assert_eq!(docker["state"], "expired", "{docker}");
    home.write(&cache, sso_cache(8 * 3600));
    let docker = home.status(&["docker"]).credential("docker");
    assert_eq!(
        docker["state"], "ok",
        "the helper's logins are there: {docker}"
    );
}

/// The real `aws configure export-credentials` (Debian's AWS CLI v2) prints a profile's
/// temporary keys with their deadline (`AWS_CREDENTIAL_EXPIRATION`), here from a
/// `credential_process` that gives keys for 20 minutes; exported into a shell, credwatch judged
/// them `unknown` ("not checked"). Now they are expiring, with that deadline.
#[test]
fn keys_exported_by_aws_configure_export_credentials_were_not_checked() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"aws-keys\"]\n");
    home.write(
        ".aws/credentials",
        format!("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = {CANARY}\n"),
    );
    let expires =
        credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() + 20 * 60)
            .rfc3339();
    let process = home.write(
        "issue-keys",
        format!("#!/bin/sh\necho '{{\"Version\": 1, \"AccessKeyId\": \"ASIAEXAMPLE\", \"SecretAccessKey\": \"{CANARY}\", \"SessionToken\": \"{CANARY}\", \"Expiration\": \"{expires}\"}}'\n"),
    );
    std::fs::set_permissions(
        &process,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    home.write(
        ".aws/config",
        format!("[profile ci]\ncredential_process = {}\n", process.display()),
    );
    assert!(
        std::path::Path::new("/usr/bin/aws").is_file(),
        "Debian's awscli (v2) is not installed: run scripts/test, which installs it"
    );
    let out = crate::clients::ok(
        &home,
        "/usr/bin/aws",
        &[
            "configure",
            "export-credentials",
            "--profile",
            "ci",
            "--format",
            "env",
        ],
        "",
    );
    let mut exported = 0;
    for line in out.stdout.lines() {
        let (name, value) = line
            .strip_prefix("export ")
            .and_then(|l| l.split_once('='))
            .unwrap_or_else(|| panic!("{}", out.stdout));
        home.set_env(name, value);
        exported += 1;
    }
    assert_eq!(exported, 4, "{}", out.stdout);
    let keys = home.status(&["aws-keys"]).credential("aws-keys");
    assert_eq!(keys["state"], "expiring", "{keys}");
    assert_eq!(keys["expires_at"], expires, "{keys}");
    assert!(
        keys["reason"]
            .as_str()
            .unwrap()
            .contains("AWS_CREDENTIAL_EXPIRATION"),
        "{keys}"
    );
}
