//! `credwatch doctor [--json]`: the environment credentials depend on, each check ok, warn or
//! error with the fix: the D-Bus session bus, the Secret Service and its default collection, the
//! runtime dir, the daemon, the shell hook, environment variables that shadow stored logins, the
//! clock, and whether HOME survives a reboot.
//!
//! Guarantees: read-only (it creates nothing, not even the runtime dir); exit 1 when a check is
//! an error, else 0; never prints a secret: variables that shadow logins are named, not shown.

use super::{Context, Run};
use crate::cli::DoctorArgs;
use crate::define::config::Config;
use crate::engine;
use crate::store::keyring::{KeyringObservation, KeyringPlan, Reach};
use crate::support::output::{paint, print, use_color};
use crate::support::paths::display;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Error,
}

#[derive(Serialize)]
struct Check {
    check: &'static str,
    status: Level,
    detail: String,
    fix: Option<String>,
}

fn check(
    check: &'static str,
    status: Level,
    detail: impl Into<String>,
    fix: Option<&str>,
) -> Check {
    // Details quote environment values (a bus address, a shell's name) and config errors: one
    // line each, inert.
    let line = |text: &str| crate::support::output::inert(&text.replace('\n', "; ")).into_owned();
    Check {
        check,
        status,
        detail: line(&detail.into()),
        fix: fix.map(line),
    }
}

impl Run for DoctorArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        doctor(&context.config()?, self.json)
    }
}

fn doctor(config: &Config, json: bool) -> anyhow::Result<i32> {
    let watched = engine::found_here(config)?;
    let keyring_users: Vec<&str> = watched
        .iter()
        .filter(|c| c.observation.keyring_plan.is_some())
        .map(|c| c.definition.name.as_str())
        .collect();
    // Missing keyring pieces are errors only when a watched credential lives there.
    let keyring_level = if keyring_users.is_empty() {
        Level::Warn
    } else {
        Level::Error
    };
    let mut checks = Vec::new();

    match crate::store::keyring::session_bus_address() {
        Ok(address) => checks.push(check("session-bus", Level::Ok, address, None)),
        Err(why) => checks.push(check(
            "session-bus",
            keyring_level,
            format!("no D-Bus session bus: {why} (usual in an SSH session); keyrings cannot be reached"),
            Some("log in on the desktop, or start one for this shell: exec dbus-run-session -- $SHELL"),
        )),
    }
    let empty = KeyringPlan {
        items: Vec::new(),
        plaintext: Vec::new(),
        flag_plaintext: false,
        expires: None,
        inactive: Vec::new(),
        tells_active: false,
    };
    let seen: KeyringObservation = crate::store::keyring::fetch_blocking(&empty);
    if matches!(seen.reach, Reach::BusFailed { .. }) {
        // The address exists but nothing answers there: that replaces the "ok" above.
        checks.retain(|c| c.check != "session-bus");
    }
    checks.extend(keyring_checks(&seen.reach, keyring_level));

    if config.alerts.desktop {
        checks.push(notifications_check());
    }
    checks.push(runtime_check());
    checks.push(daemon_check());
    checks.push(hook_check());
    for credential in &watched {
        if !credential.observation.shadowed_by.is_empty() {
            let names = credential.observation.shadowed_by.join(", ");
            checks.push(check(
                "shadowing-env",
                Level::Warn,
                format!(
                    "{names} is set in this shell: {} uses it, not the stored {} login",
                    credential.definition.tool, credential.definition.name
                ),
                Some(&crate::evaluate::overlay::shadowing_fix(
                    &credential.observation.shadowed_by,
                    &credential.definition.name,
                )),
            ));
        }
    }
    checks.extend(agent_check(&watched));
    checks.push(clock_check(&watched));
    checks.push(home_check());

    let worst = checks
        .iter()
        .map(|c| c.status)
        .max_by_key(|l| *l as u8)
        .unwrap_or(Level::Ok);
    if json {
        print(&(serde_json::to_string_pretty(&serde_json::json!({ "checks": checks }))? + "\n"));
    } else {
        let color = use_color();
        let mut text = String::new();
        for c in &checks {
            let (word, sgr) = match c.status {
                Level::Ok => ("ok   ", "32"),
                Level::Warn => ("warn ", "33"),
                Level::Error => ("error", "31"),
            };
            text.push_str(&format!(
                "{} {:<14} {}\n",
                paint(word, sgr, color),
                c.check,
                c.detail
            ));
            if let Some(fix) = &c.fix {
                text.push_str(&format!("{:21}fix: {fix}\n", ""));
            }
        }
        print(&text);
    }
    Ok(if worst == Level::Error { 1 } else { 0 })
}

fn keyring_checks(reach: &Reach, level: Level) -> Vec<Check> {
    const START: &str = "start one: gnome-keyring-daemon --start --components=secrets (package gnome-keyring), or enable KeePassXC's Secret Service";
    const UNLOCK: &str = "unlock it: log in to the desktop, or run credwatch unlock (it asks for the keyring password)";
    match reach {
        Reach::NoBus { .. } => vec![],
        Reach::BusFailed { address, error } => vec![check(
            "session-bus",
            level,
            format!("cannot connect to {address}: {error}"),
            Some("DBUS_SESSION_BUS_ADDRESS may be left over from another session: unset it or start a new session"),
        )],
        Reach::NoProvider => vec![check(
            "secret-service",
            level,
            "no Secret Service on the session bus (nothing provides org.freedesktop.secrets)",
            Some(START),
        )],
        Reach::NotRunning => vec![check(
            "secret-service",
            Level::Warn,
            "no Secret Service runs now (the session bus starts one when a tool asks)",
            None,
        )],
        Reach::NoDefaultCollection => vec![
            check("secret-service", Level::Ok, "org.freedesktop.secrets answers", None),
            check("keyring", level, "no default collection (keyring)", Some("create one: gnome-keyring-daemon --replace --unlock --components=secrets, type a password, then Ctrl-D")),
        ],
        Reach::Locked { collection } => vec![
            check("secret-service", Level::Ok, "org.freedesktop.secrets answers", None),
            check("keyring", level, format!("the default collection \"{collection}\" is locked"), Some(UNLOCK)),
        ],
        Reach::TimedOut { step } => vec![check(
            "secret-service",
            level,
            format!("the Secret Service did not answer within 2 s ({step})"),
            Some("it may wait for an unlock prompt on another screen: busctl --user status org.freedesktop.secrets"),
        )],
        Reach::Failed { step, error } => vec![check(
            "secret-service",
            level,
            format!("{step}: {error}"),
            Some("busctl --user status org.freedesktop.secrets"),
        )],
        Reach::Reachable { default_collection } => vec![
            check("secret-service", Level::Ok, "org.freedesktop.secrets answers", None),
            check("keyring", Level::Ok, format!("default collection \"{default_collection}\", unlocked"), None),
        ],
    }
}

/// Whether desktop notifications can be shown: a notification server on the session bus.
fn notifications_check() -> Check {
    use crate::publish::desktop;
    let found = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|runtime| {
            runtime.block_on(async {
                let bus = desktop::connect().await?;
                desktop::server_running(&bus).await
            })
        });
    let off = "or set notify.desktop = false in the config (hooks and the prompt still tell)";
    match found {
        Ok(true) => check(
            "notifications",
            Level::Ok,
            "a notification server runs on the session bus (org.freedesktop.Notifications)",
            None,
        ),
        Ok(false) => check(
            "notifications",
            Level::Warn,
            "no notification server on the session bus: desktop notifications are not shown",
            Some(&format!("start one (dunst, mako, your desktop's), {off}")),
        ),
        Err(why) => check(
            "notifications",
            Level::Warn,
            format!("desktop notifications cannot be shown: {why}"),
            Some(&format!("run credwatch in a desktop session, {off}")),
        ),
    }
}

fn runtime_check() -> Check {
    use std::os::unix::fs::MetadataExt;
    let dir = crate::support::runtime::runtime_dir();
    let shown = display(&dir);
    let base = if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        ""
    } else {
        " (XDG_RUNTIME_DIR is not set: the fallback under /tmp)"
    };
    match std::fs::symlink_metadata(&dir) {
        Err(_) => check(
            "runtime-dir",
            Level::Warn,
            format!("{shown} does not exist yet{base}"),
            Some("it is created by the daemon or the first `credwatch prompt`: start the daemon (systemctl --user start credwatch)"),
        ),
        Ok(meta) if meta.file_type().is_symlink() || meta.uid() != nix::unistd::geteuid().as_raw() => check(
            "runtime-dir",
            Level::Error,
            format!("{shown} is a symlink or not yours: credwatch refuses to use it"),
            Some(&format!("remove it (rm -rf {shown}) and let credwatch create it")),
        ),
        Ok(meta) if meta.mode() & 0o077 != 0 => check(
            "runtime-dir",
            Level::Error,
            format!("{shown} is open to other users (mode {:04o})", meta.mode() & 0o7777),
            Some(&format!("chmod 700 {shown}")),
        ),
        Ok(_) => check("runtime-dir", Level::Ok, format!("{shown}, private{base}"), None),
    }
}

fn daemon_check() -> Check {
    let seen = crate::publish::report::daemon_seen();
    let Some(pid) = seen.pid else {
        return check(
            "daemon",
            Level::Warn,
            "no credwatch daemon runs: the prompt and status check directly, and nothing watches between prompts",
            Some("systemctl --user enable --now credwatch (without systemd: credwatch daemon & from a session script)"),
        );
    };
    // Read whatever the daemon cannot watch: that is one of the findings here.
    let published = crate::publish::report::read_daemon_document_or_refusal(
        crate::support::timefmt::Timestamp::now(),
    )
    .ok()
    .flatten();
    let unwatched = published
        .as_ref()
        .map(|d| d.daemon.unwatched.as_slice())
        .unwrap_or_default();
    let version = published
        .as_ref()
        .and_then(|d| d.daemon.version.clone())
        .unwrap_or_else(|| "?".into());
    let mine = env!("CARGO_PKG_VERSION");
    if let Some(error) = published
        .as_ref()
        .and_then(|d| d.daemon.config_error.clone())
    {
        return check(
            "daemon",
            Level::Error,
            format!("pid {pid} runs, but could not reload the config and keeps the last good one: {error}"),
            Some("fix the config (credwatch config check), then: systemctl --user reload credwatch"),
        );
    }
    if let Some(first) = unwatched.first() {
        let paths: Vec<&str> = unwatched.iter().map(|u| u.path.as_str()).collect();
        return check(
            "daemon",
            Level::Warn,
            format!(
                "pid {pid} runs, but cannot watch {} ({}): it polls them every 30 s, and status checks directly",
                paths.join(", "),
                first.reason
            ),
            Some(first.fix.as_str()),
        );
    }
    if version != mine {
        return check(
            "daemon",
            Level::Warn,
            format!("pid {pid} runs version {version}, this binary is {mine}"),
            Some("restart it: systemctl --user restart credwatch"),
        );
    }
    check(
        "daemon",
        Level::Ok,
        format!("pid {pid}, version {version}"),
        None,
    )
}

fn hook_check() -> Check {
    let parent = nix::unistd::getppid().as_raw().to_string();
    let hook = std::env::var("CREDWATCH_HOOK").unwrap_or_default();
    let mut words = hook.split_whitespace();
    let (shell, pid) = (words.next(), words.next());
    match (shell, pid) {
        (Some(shell), Some(pid)) if pid == parent => {
            check("shell-hook", Level::Ok, format!("active in this {shell} (pid {pid})"), None)
        }
        (Some(shell), Some(_)) => check(
            "shell-hook",
            Level::Warn,
            format!("a parent {shell} runs the hook, but not this shell"),
            Some("add the hook to this shell's rc file: eval \"$(credwatch init bash)\" (zsh: init zsh; fish: credwatch init fish | source)"),
        ),
        _ => check(
            "shell-hook",
            Level::Warn,
            "this shell does not run the credwatch hook: broken logins do not show at the prompt",
            Some("add to ~/.bashrc: eval \"$(credwatch init bash)\" (zsh: eval \"$(credwatch init zsh)\"; fish: credwatch init fish | source)"),
        ),
    }
}

/// This shell's ssh-agent (`SSH_AUTH_SOCK`), when it names one: whether it answers and holds a
/// usable key.
fn agent_check(watched: &[engine::Checked]) -> Option<Check> {
    let agent = watched
        .iter()
        .find(|c| c.definition.format == crate::tools::Format::SshAgent)?;
    let verdict = &agent.verdict;
    Some(if verdict.state.is_usable() {
        let holds = agent
            .observation
            .login_facts()
            .map(|_| "answers and holds a usable key")
            .unwrap_or("answers");
        check(
            "ssh-agent",
            Level::Ok,
            format!(
                "the agent of this shell (SSH_AUTH_SOCK) {holds}: {}",
                verdict.reason
            ),
            None,
        )
    } else {
        check(
            "ssh-agent",
            Level::Warn,
            format!("{}: {}", verdict.state.as_str(), verdict.reason),
            verdict.fix.as_deref(),
        )
    })
}

fn clock_check(watched: &[engine::Checked]) -> Check {
    let now = crate::support::timefmt::Timestamp::now();
    // 2024-01-01: a clock before this is certainly wrong (no RTC, no NTP yet).
    if now.millis() < 1_704_067_200_000 {
        return check(
            "clock",
            Level::Error,
            format!(
                "the clock says {}: expiry dates cannot be judged",
                now.human()
            ),
            Some("set the time: timedatectl set-ntp true"),
        );
    }
    let ahead = watched
        .iter()
        .filter_map(|c| c.observation.primary_file())
        .filter_map(|f| match &f.status {
            crate::store::FileStatus::Read(facts) => facts.meta.modified.map(|m| (f, m)),
            _ => None,
        })
        .find(|(_, modified)| modified.millis() > now.millis() + 5 * 60_000);
    match ahead {
        Some((file, modified)) => check(
            "clock",
            Level::Warn,
            format!(
                "{} was written at {}, after now ({}): this clock may be behind",
                display(&file.path),
                modified.human(),
                now.human()
            ),
            Some("check the time: timedatectl status"),
        ),
        None => check("clock", Level::Ok, now.human(), None),
    }
}

fn home_check() -> Check {
    let Some(home) = crate::support::paths::home_dir() else {
        return check("home", Level::Error, "HOME is not set", Some("set HOME"));
    };
    let shown = display(&home);
    match std::fs::File::open(&home) {
        Err(error) => check(
            "home",
            Level::Error,
            format!("cannot open {shown}: {error}"),
            Some("check HOME"),
        ),
        Ok(dir) => {
            let (fs, persistent) = crate::store::file::filesystem_of(&dir);
            if persistent {
                check("home", Level::Ok, format!("{shown} on {fs}"), None)
            } else {
                check(
                    "home",
                    Level::Error,
                    format!("{shown} is on {fs}, which lives in memory: every login stored there is lost at reboot"),
                    Some("keep HOME on persistent storage (or point the tools' config dirs at a persistent one)"),
                )
            }
        }
    }
}
