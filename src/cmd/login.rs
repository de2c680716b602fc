//! `credwatch login [NAME] -- CMD [ARGS...]`: runs a login command on the user's terminal, then
//! proves, step by step, that the new login persisted (and stayed `--grace` later), with
//! `verify`'s steps.
//!
//! Guarantees: the command runs on the user's terminal (see `support::child::run_attached`) and its exit code is
//! reported (a failed login command fails `login`); nothing here writes a credential; the
//! command's arguments are never printed as given (a login command line often holds a token:
//! `npm config set //host/:_authToken=…`), only the program and its plain leading words.

use super::verify::{check_now, check_with_probe, render, store_steps, title, Mark, Step};
use super::{Context, Run};
use crate::cli::LoginArgs;
use crate::define::config::Config;
use crate::define::state::exit_code;
use crate::engine::memory::Memory;
use crate::engine::{self, Candidate, Checked};
use crate::store::{FileStatus, Observation};
use crate::support::child::run_attached;
use crate::support::output::{print, use_color};
use crate::support::paths::display_short;
use crate::support::timefmt::describe_span;

impl Run for LoginArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        login(
            &context.config()?,
            self.name.as_deref(),
            &self.command,
            self.grace,
        )
    }
}

/// What a store looks like from outside, to tell whether a command wrote to it.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot(Vec<String>);

fn snapshot(observation: &Observation) -> Snapshot {
    let mut parts = Vec::new();
    for file in &observation.files {
        parts.push(match &file.status {
            FileStatus::Absent => format!("{}: absent", file.path.display()),
            FileStatus::Read(facts) => format!(
                "{}: {:?} {} {:o}",
                file.path.display(),
                facts.meta.modified,
                facts.meta.size,
                facts.meta.mode
            ),
            other => format!("{}: {other:?}", file.path.display()),
        });
    }
    if let Some(seen) = &observation.keyring {
        for lookup in &seen.items {
            for item in &lookup.found {
                parts.push(format!("{}: {:?}", item.path, item.modified));
            }
        }
        parts.push(format!("keyring: {:?}", seen.reach));
    }
    Snapshot(parts)
}

/// The definitions a login command is for: those whose `commands` start the argv.
fn for_command<'a>(candidates: &'a [Candidate], argv: &[String]) -> Vec<&'a Candidate> {
    let line = argv.join(" ");
    candidates
        .iter()
        .filter(|c| {
            c.definition.commands.iter().any(|command| {
                let program = argv[0].rsplit('/').next().unwrap_or(&argv[0]);
                let line = line.replacen(&argv[0], program, 1);
                line == *command || line.starts_with(&format!("{command} "))
            })
        })
        .collect()
}

/// `credwatch login [NAME] -- CMD [ARGS...]`.
fn login(
    config: &Config,
    name: Option<&str>,
    argv: &[String],
    grace_ms: i64,
) -> anyhow::Result<i32> {
    let all = engine::candidates(config)?;
    let by_command = for_command(&all, argv);
    let matched_command = name.is_none() && !by_command.is_empty();
    let chosen: Vec<Candidate> = match name {
        Some(name) => super::named(config, &[name.to_string()])?,
        None => {
            let pool = if by_command.is_empty() {
                all.iter().collect()
            } else {
                by_command
            };
            pool.into_iter()
                .map(|c| Candidate {
                    definition: c.definition.clone(),
                    only_if_detected: false,
                })
                .collect()
        }
    };
    let memory = Memory::load(crate::support::runtime::state_dir().as_deref());
    let before: Vec<Snapshot> = chosen
        .iter()
        .map(|c| snapshot(&check_now(config, &memory, c).observation))
        .collect();
    let shown_command = command_for_display(argv);
    eprintln!("credwatch login: running {shown_command}");
    let exit = run_attached(argv)?;
    let first: Vec<Checked> = chosen
        .iter()
        .map(|c| check_now(config, &memory, c))
        .collect();
    let changed: Vec<bool> = first
        .iter()
        .zip(&before)
        .map(|(checked, before)| snapshot(&checked.observation) != *before)
        .collect();
    // The credential named is reported; one matched by the command alone too; of several
    // matched (`aws` runs four kinds of login), or with neither, those the command wrote to.
    let all_shown = name.is_some() || (matched_command && chosen.len() == 1);
    let shown: Vec<usize> = (0..chosen.len())
        .filter(|&i| all_shown || changed[i])
        .collect();
    let program = program_name(argv);
    if shown.is_empty() {
        let among = if matched_command {
            let names: Vec<&str> = chosen.iter().map(|c| c.definition.name.as_str()).collect();
            format!("the stores of {}", names.join(", "))
        } else {
            format!(
                "the stores credwatch watches ({} definitions)",
                chosen.len()
            )
        };
        print(&format!(
            "✗ {program} {} but wrote to none of {among}
  fix: name the credential: credwatch login NAME -- {shown_command}
",
            exit_phrase(&exit),
        ));
        return Ok(1);
    }
    if grace_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(grace_ms as u64));
    }
    let color = use_color();
    let mut text = String::new();
    let mut states = Vec::new();
    for i in shown {
        let candidate = &chosen[i];
        let (later, probe) = check_with_probe(config, &memory, candidate);
        let mut steps = vec![exit_step(&exit, &program)];
        steps.push(written_step(&first[i], changed[i], &exit));
        let stayed = snapshot(&later.observation) == snapshot(&first[i].observation)
            || later.verdict.state.group() == first[i].verdict.state.group();
        let grace = describe_span(grace_ms);
        if grace_ms > 0 && changed[i] {
            if stayed || !first[i].verdict.state.is_usable() {
                steps.push(Step::new(
                    Mark::Pass,
                    format!("it is still there {grace} later"),
                ));
            } else {
                steps.push(
                    Step::new(Mark::Fail, format!("it is still there {grace} later")).because(
                        format!(
                            "it was written, then changed within {grace}: {} (something else rewrote the store: another login, a sync tool, or the tool itself)",
                            later.verdict.reason
                        ),
                        Some(format!(
                            "{}; then `credwatch journal {}` shows what touched it",
                            later.definition.fix, later.definition.name
                        )),
                    ),
                );
            }
        }
        steps.extend(store_steps(&later, probe.as_ref()));
        let state = later.verdict.state;
        text.push_str(&render(&title(&later), &steps, &later, color));
        states.push(state);
    }
    print(&text);
    let code = exit_code(states);
    // The user cancelled the login (Ctrl-C) or it failed: that is the result, whatever the
    // stores hold.
    Ok(if exit.success() { code } else { code.max(1) })
}

/// The login command's program, as a name (its directory dropped, made safe to show).
fn program_name(argv: &[String]) -> String {
    let program = argv[0].rsplit('/').next().unwrap_or(&argv[0]);
    crate::support::output::inert(program).into_owned()
}

/// The login command as it may be shown: the program and at most three plain words after it
/// (`npm config set`, `gh auth login`), then `…` for the rest. A plain word is lower-case
/// letters, digits and dashes, starting with a letter: never an option, an assignment, a path,
/// a URL or a value that may be a token.
fn command_for_display(argv: &[String]) -> String {
    fn plain(word: &str) -> bool {
        word.len() <= 32
            && word.starts_with(|c: char| c.is_ascii_lowercase())
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }
    let mut shown = program_name(argv);
    let words: Vec<&String> = argv[1..].iter().take_while(|w| plain(w)).take(3).collect();
    for word in &words {
        shown.push(' ');
        shown.push_str(word);
    }
    if words.len() < argv.len() - 1 {
        shown.push_str(" …");
    }
    shown
}

/// How the login command ended, as a phrase: `exited 1`, `was killed by signal 2`.
fn exit_phrase(exit: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (exit.code(), exit.signal()) {
        (Some(code), _) => format!("exited {code}"),
        (None, signal) => format!("was killed by signal {}", signal.unwrap_or(0)),
    }
}

fn exit_step(exit: &std::process::ExitStatus, program: &str) -> Step {
    let mark = if exit.success() {
        Mark::Pass
    } else {
        Mark::Fail
    };
    Step::new(
        mark,
        format!("the login command ({program}) {}", exit_phrase(exit)),
    )
}

fn written_step(checked: &Checked, changed: bool, exit: &std::process::ExitStatus) -> Step {
    if changed {
        return Step::new(Mark::Pass, "a new login was written");
    }
    let observation = &checked.observation;
    let home = observation.home.as_deref();
    let mut stores: Vec<String> = observation
        .files
        .iter()
        .map(|f| display_short(&f.path, home))
        .collect();
    if observation.keyring_plan.is_some() {
        stores.push("the keyring".into());
    }
    let status = match exit.code() {
        Some(code) => format!("exited {code}"),
        None => "was killed".into(),
    };
    let mut why = format!(
        "the login command {status} but wrote nothing to {}",
        stores.join(" or ")
    );
    if let Some(marker) = observation.marker.as_ref().filter(|m| m.present) {
        why.push_str(&format!(
            ", while {} names the account: the login did not persist",
            display_short(&marker.path, home)
        ));
    }
    let mark = if checked.verdict.state.is_usable() {
        why.push_str(" (the login that was there before is still usable)");
        Mark::Warn
    } else {
        Mark::Fail
    };
    Step::new(mark, "a new login was written").because(why, Some(checked.definition.fix.clone()))
}
