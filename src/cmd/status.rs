//! `credwatch status`: every watched credential, its state, why, and the fix.
//!
//! Reads the daemon's published state when a live daemon wrote it and it still holds (and says
//! so); otherwise, or with `--live`, evaluates directly. Environment shadowing is always judged
//! from the caller's environment, never the daemon's.

use super::{Context, Run};
use crate::cli::StatusArgs;
use crate::define::config::Config;
use crate::define::state::{Group, State};
use crate::engine::{self, Candidate};
use crate::evaluate::shadowed;
use crate::publish::report::{
    read_daemon_document_or_refusal, status_document, CredentialReport, StatusDocument,
};
use crate::support::environ;
use crate::support::output::{paint, print, use_color};
use crate::support::timefmt::Timestamp;

impl Run for StatusArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        status(&context.config()?, &self)
    }
}

fn status(config: &Config, args: &StatusArgs) -> anyhow::Result<i32> {
    let document = current_document(config, &args.names, args.live)?;
    if let Some(error) = &document.daemon.config_error {
        eprintln!("credwatch: the daemon could not reload the config and keeps the last good one:\n{error}");
    }
    if !args.json {
        if let Some(text) = unwatched_note(&document.daemon.unwatched) {
            eprint!("{text}");
        }
    }
    let text = if args.json {
        serde_json::to_string_pretty(&document)? + "\n"
    } else if document.credentials.is_empty() {
        nothing_found(config)
    } else {
        let mut text = table(&document.credentials, use_color());
        if document.source == "daemon" {
            text.push_str(&format!(
                "(from the credwatch daemon, pid {}; `credwatch status --live` checks now)\n",
                document.daemon.pid.unwrap_or(0)
            ));
        }
        text
    };
    print(&text);
    Ok(document.exit_code())
}

/// What the daemon says it cannot watch, for people: why, and each distinct fix once.
fn unwatched_note(unwatched: &[crate::publish::report::UnwatchedReport]) -> Option<String> {
    if unwatched.is_empty() {
        return None;
    }
    let mut text = format!(
        "credwatch: the daemon cannot watch {} path(s), so it polls them and this was checked directly:\n",
        unwatched.len()
    );
    let mut fixes: Vec<&str> = Vec::new();
    for item in unwatched {
        text.push_str(&format!("  {}: {}\n", item.path, item.reason));
        if !fixes.contains(&item.fix.as_str()) {
            fixes.push(&item.fix);
        }
    }
    for fix in fixes {
        text.push_str(&format!("  fix: {fix}\n"));
    }
    Some(text)
}

/// The state of the named credentials (all when none is named): the daemon's published state
/// when it is fresh and `live` is not asked, else a direct check.
pub fn current_document(
    config: &Config,
    names: &[String],
    live: bool,
) -> anyhow::Result<StatusDocument> {
    let candidates = if names.is_empty() {
        engine::candidates(config)?
    } else {
        super::named(config, names)?
    };
    let now = Timestamp::now();
    // What the daemon cannot watch it polls, so its state may lag: checked directly then, and
    // said so.
    let mut unwatched = Vec::new();
    let from_daemon = if live {
        None
    } else {
        match read_daemon_document_or_refusal(now) {
            Ok(Some(doc)) if !doc.daemon.unwatched.is_empty() => {
                unwatched = doc.daemon.unwatched;
                None
            }
            Ok(document) => {
                document.and_then(|doc| from_daemon(doc, &candidates, names, config.warn_before_ms))
            }
            Err(found) => {
                eprintln!(
                    "credwatch: not using the daemon's published state: {found}; checked directly\n  fix: remove it (its owner can), or set XDG_RUNTIME_DIR to a directory of yours"
                );
                None
            }
        }
    };
    Ok(match from_daemon {
        Some(mut document) => {
            recheck_in_this_shell(config, &mut document, &candidates, now);
            document
        }
        None => {
            let mut document = status_document(&engine::check_for_user(config, candidates), now);
            document.daemon.unwatched = unwatched;
            document
        }
    })
}

/// Credentials whose login depends on environment variables that are not, here, what the
/// daemon judged them with (a shell's `KUBECONFIG`, `AWS_PROFILE`, npm's `${NPM_TOKEN}`) are
/// checked again here, in the caller's environment; so are those the daemon does not list (not
/// found in its environment) whose selecting variables differ here from the daemon's own (the
/// shell's `SSH_AUTH_SOCK`).
fn recheck_in_this_shell(
    config: &Config,
    document: &mut StatusDocument,
    candidates: &[Candidate],
    now: Timestamp,
) {
    let differs = |report: &CredentialReport| {
        !report.depends_on_env.is_empty()
            || report
                .environment
                .iter()
                .any(|(name, value)| environ::var_text(name) != *value)
    };
    let wanted: Vec<Candidate> = candidates
        .iter()
        .filter_map(|candidate| {
            let listed = document
                .credentials
                .iter()
                .find(|c| c.name == candidate.definition.name);
            let again = match listed {
                Some(report) => differs(report),
                None => candidate
                    .definition
                    .context_variables()
                    .selects
                    .iter()
                    .any(|name| {
                        let here = environ::var_text(name);
                        match document.daemon.environment.get(name) {
                            Some(daemons) => here != *daemons,
                            // A daemon that does not say: any value set here may differ.
                            None => here.is_some(),
                        }
                    }),
            };
            again.then(|| Candidate {
                definition: candidate.definition.clone(),
                // One the daemon lists is shown whatever is found here; one it does not, only
                // when found here.
                only_if_detected: candidate.only_if_detected && listed.is_none(),
            })
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let here = status_document(&engine::check_for_user(config, wanted), now);
    for fresh in here.credentials {
        match document
            .credentials
            .iter_mut()
            .find(|c| c.name == fresh.name)
        {
            Some(slot) => *slot = fresh,
            None => document.credentials.push(fresh),
        }
    }
    // In the order of the candidates, as a direct check lists them.
    let position = |name: &str| {
        candidates
            .iter()
            .position(|c| c.definition.name == name)
            .unwrap_or(usize::MAX)
    };
    document.credentials.sort_by_key(|c| position(&c.name));
}

/// The daemon's document narrowed to what was asked, with the caller's env shadowing; `None`
/// when it lacks a credential that was named.
fn from_daemon(
    mut document: StatusDocument,
    candidates: &[Candidate],
    names: &[String],
    default_warn_before_ms: i64,
) -> Option<StatusDocument> {
    if !names.is_empty() {
        if !names
            .iter()
            .all(|n| document.credentials.iter().any(|c| &c.name == n))
        {
            return None;
        }
        document.credentials.retain(|c| names.contains(&c.name));
    }
    let now = Timestamp::now();
    // What the user forgot is read here too: `credwatch forget` just now may be ahead of the
    // daemon's reload.
    let forgotten =
        crate::engine::memory::Forgotten::load(crate::support::runtime::state_dir().as_deref());
    for credential in &mut document.credentials {
        // Written when the daemon judged it: "expired 0 s ago" is said again as of now.
        credential.reason = credential.reason_now(now);
        credential.forgotten = forgotten.contains(&credential.name) && !credential.usable;
        let Some(candidate) = candidates
            .iter()
            .find(|c| c.definition.name == credential.name)
        else {
            continue;
        };
        credential.shadowed_by = crate::store::env::shadowing_env(&candidate.definition);
        let warn_ms = candidate
            .definition
            .warn_before_ms
            .unwrap_or(default_warn_before_ms);
        if let Some(shadowed) = shadowed(
            &candidate.definition,
            &credential.shadowed_by,
            credential.state,
            &credential.reason,
            now,
            warn_ms,
            None,
        ) {
            credential.state = shadowed.state;
            credential.reason = shadowed.reason;
            credential.fix = Some(shadowed.fix);
            if let Some(at) = shadowed.expires_at {
                credential.expires_at = Some(at.rfc3339());
                credential.access_expires_at = None;
            }
        }
        credential.usable = credential.state.is_usable();
    }
    Some(document)
}

fn nothing_found(config: &Config) -> String {
    let config_path = config
        .path
        .as_deref()
        .map(crate::support::paths::display)
        .or_else(|| {
            crate::support::paths::config_file().map(|p| crate::support::paths::display(&p))
        })
        .unwrap_or_else(|| "config.toml".into());
    format!(
        "No credentials to watch: no built-in preset found a login on this machine \
(`credwatch presets` lists where they look), and {config_path} defines none.\n"
    )
}

fn state_color(state: State) -> &'static str {
    match (state, state.group()) {
        (State::Ok, _) => "32",
        (_, Group::Usable) => "33",
        (_, Group::Broken) => "1;31",
        (_, Group::Undetermined) => "35",
    }
}

/// One row per credential, `fix:` beneath the reason when something needs doing.
pub fn table(credentials: &[CredentialReport], color: bool) -> String {
    let name_width = credentials
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let state_width = credentials
        .iter()
        .map(|c| c.state.as_str().len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(name_width + state_width + 4);
    let mut out = String::new();
    for c in credentials {
        let padded = format!("{:<state_width$}", c.state.as_str());
        if c.forgotten {
            // Said not to be used here: shown dim, with how to undo it, never as a failure.
            out.push_str(&format!(
                "{:<name_width$}  {}  forgotten (credwatch forget): {}\n",
                c.name,
                paint(&padded, "2", color),
                c.reason
            ));
            out.push_str(&format!(
                "{indent}{} credwatch forget --undo {} (or log in again: it is watched again)\n",
                paint("undo:", "1", color),
                c.name
            ));
            continue;
        }
        out.push_str(&format!(
            "{:<name_width$}  {}  {}\n",
            c.name,
            paint(&padded, state_color(c.state), color),
            c.reason
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{indent}{} {fix}\n", paint("fix:", "1", color)));
        }
        // Several accounts: each on its line, the one in use marked; another's state is
        // shown, never counted.
        for account in &c.accounts {
            let mark = if account.active { "*" } else { " " };
            out.push_str(&format!(
                "{indent}{mark} {}  {}  {}\n",
                account.name,
                paint(account.state.as_str(), state_color(account.state), color),
                if account.active {
                    format!("(in use) {}", account.reason)
                } else {
                    format!("(not in use) {}", account.reason)
                }
            ));
        }
    }
    out
}
