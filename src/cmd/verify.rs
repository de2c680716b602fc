//! `credwatch verify [NAME...]` and `credwatch login [NAME] -- CMD [ARGS...]`: prove, step by
//! step, that a login persisted where the tool will look for it, and that the server accepts it.
//!
//! Guarantees: `login` runs the command on the user's terminal (stdin, stdout and stderr
//! inherited), keeps SIGINT/SIGQUIT for the command (the terminal sends them to it; credwatch
//! itself does not die), forwards SIGTERM and SIGHUP to it, and reports its exit code; then each
//! check prints ✓, ✗ or ! with the cause and the fix. Exit codes follow contract.md: 0 all usable,
//! 1 one broken, 3 none broken but some undetermined. Nothing here writes a credential.

use crate::checks::{self, Candidate, Checked, Context, KeyringSource};
use crate::config::Config;
use crate::journal::Memory;
use crate::observe::{FileStatus, Observation};
use crate::output::{paint, print, use_color};
use crate::paths::display_short;
use crate::probe::{ProbeReport, ProbeResult};
use crate::state::{exit_code, Group, State};
use crate::timefmt::describe_span;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Pass,
    Fail,
    Warn,
    Skip,
}

struct Step {
    mark: Mark,
    text: String,
    why: Option<String>,
    fix: Option<String>,
}

impl Step {
    fn new(mark: Mark, text: impl Into<String>) -> Self {
        Step {
            mark,
            text: text.into(),
            why: None,
            fix: None,
        }
    }

    fn because(mut self, why: impl Into<String>, fix: Option<String>) -> Self {
        self.why = Some(why.into());
        self.fix = fix;
        self
    }
}

/// Checks one credential now, as the user, asking the keyring.
fn check_now(config: &Config, memory: &Memory, candidate: &Candidate) -> Checked {
    let context = Context {
        memory,
        env_is_users_shell: true,
        keyring: KeyringSource::LookNow,
        probe: None,
    };
    let candidate = Candidate {
        definition: candidate.definition.clone(),
        only_if_detected: false,
    };
    checks::check_one(config, &candidate, &context).expect("a named check always returns")
}

/// Checks, then runs the probe when the credential looks usable here, and checks again with its
/// answer.
fn check_with_probe(
    config: &Config,
    memory: &Memory,
    candidate: &Candidate,
) -> (Checked, Option<ProbeReport>) {
    let mut checked = check_now(config, memory, candidate);
    let Some(spec) = &candidate.definition.probe else {
        return (checked, None);
    };
    if !checked.verdict.state.is_usable() {
        return (checked, None);
    }
    let report = crate::probe::run(&candidate.definition, spec);
    checks::with_probe(config, &mut checked, Some(report.clone()));
    (checked, Some(report))
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

/// The checks every verification makes, from one check's result.
fn store_steps(checked: &Checked, probe: Option<&ProbeReport>) -> Vec<Step> {
    let observation = &checked.observation;
    let verdict = &checked.verdict;
    let definition = &checked.definition;
    let home = observation.home.as_deref();
    let state = verdict.state;
    let fail =
        |text: &str| Step::new(Mark::Fail, text).because(&verdict.reason, verdict.fix.clone());
    let mut steps = Vec::new();

    let file = observation.primary_file();
    let where_ = match (file, &observation.keyring_plan) {
        (_, Some(plan)) if !plan.items.is_empty() => "in the keyring".to_string(),
        (Some(file), _) => format!("at {}", display_short(&file.path, home)),
        _ => match observation.files.first() {
            Some(file) => format!("at {}", display_short(&file.path, home)),
            None => "where the tool keeps it".to_string(),
        },
    };
    // A file on tmpfs is present but unpersisted: that case gets its own step below.
    let on_volatile_storage = state == State::Unpersisted
        && matches!(file.map(|f| &f.status), Some(FileStatus::Read(facts)) if !facts.meta.persistent);
    let absent = matches!(
        state,
        State::Missing | State::LoggedOut | State::Invalid | State::Unpersisted
    ) && !on_volatile_storage;
    let undetermined = state.group() == Group::Undetermined && state != State::Unknown;
    if undetermined {
        steps.push(fail(&format!("the store can be reached ({where_})")));
        return steps;
    }
    if absent {
        steps.push(fail(&format!("a well-formed login is present {where_}")));
        return steps;
    }
    if state == State::Unknown {
        steps.push(
            Step::new(Mark::Warn, format!("the login {where_} could be checked"))
                .because(&verdict.reason, verdict.fix.clone()),
        );
        return steps;
    }
    steps.push(Step::new(
        Mark::Pass,
        format!("a well-formed login is present {where_}"),
    ));
    match state {
        State::Expired => steps.push(fail("it has not expired")),
        State::Expiring => steps.push(
            Step::new(Mark::Warn, "it has not expired, but its deadline is near")
                .because(&verdict.reason, verdict.fix.clone()),
        ),
        _ => steps.push(Step::new(
            Mark::Pass,
            match verdict.expires_at {
                Some(at) => format!("it has not expired (valid until {})", at.human()),
                None => "it has not expired (no deadline is stored)".to_string(),
            },
        )),
    }
    if let Some(FileStatus::Read(facts)) = file.map(|f| &f.status) {
        let path = display_short(&file.expect("read").path, home);
        let meta = &facts.meta;
        let open = meta.mode & 0o066 != 0;
        let foreign = meta.uid != observation.uid && observation.uid != 0;
        if open || foreign {
            steps.push(
                Step::new(
                    Mark::Warn,
                    format!("{path} is private to you (mode {:04o})", meta.mode),
                )
                .because(&verdict.reason, verdict.fix.clone()),
            );
        } else {
            steps.push(Step::new(
                Mark::Pass,
                format!("{path} is private to you (mode {:04o})", meta.mode),
            ));
        }
        if meta.persistent {
            steps.push(Step::new(
                Mark::Pass,
                format!("{path} is on persistent storage ({})", meta.fs),
            ));
        } else {
            steps.push(fail(&format!("{path} is on persistent storage")));
        }
    }
    if let Some(plan) = &observation.keyring_plan {
        if !plan.items.is_empty() {
            let collections: Vec<String> = observation
                .keyring
                .iter()
                .flat_map(|k| k.items.iter().flat_map(|l| l.found.iter()))
                .map(|f| f.collection.clone())
                .collect();
            if state == State::Unpersisted {
                steps.push(fail("the keyring item is in a persistent collection"));
            } else {
                steps.push(Step::new(
                    Mark::Pass,
                    format!(
                        "the keyring item is in a persistent, unlocked collection ({})",
                        collections.join(", ")
                    ),
                ));
            }
        }
    }
    if observation.shadowed_by.is_empty() {
        steps.push(Step::new(
            Mark::Pass,
            "no environment variable overrides it in this shell",
        ));
    } else {
        let names = observation.shadowed_by.join(", ");
        steps.push(
            Step::new(
                Mark::Warn,
                "no environment variable overrides it in this shell",
            )
            .because(
                format!(
                    "{names} is set here and {} uses it instead of this login",
                    definition.tool
                ),
                Some(format!(
                    "unset {names} (and remove it from your shell's startup files)"
                )),
            ),
        );
    }
    match (probe, &definition.probe) {
        (Some(report), _) => {
            let text = format!("the server accepts it ({})", report.detail);
            steps.push(match report.result {
                ProbeResult::Accepted => Step::new(Mark::Pass, text),
                ProbeResult::Rejected => fail(&text),
                ProbeResult::Unknown => Step::new(Mark::Warn, "the server could be asked")
                    .because(format!("the probe could not tell: {}", report.detail), None),
            });
        }
        (None, Some(_)) => {}
        (None, None) => steps.push(Step::new(
            Mark::Skip,
            format!(
                "the server was not asked (no probe configured for {})",
                definition.name
            ),
        )),
    }
    steps
}

fn render(title: &str, steps: &[Step], checked: &Checked, color: bool) -> String {
    let mut out = format!("{title}\n");
    for step in steps {
        let (mark, sgr) = match step.mark {
            Mark::Pass => ("✓", "32"),
            Mark::Fail => ("✗", "31"),
            Mark::Warn => ("!", "33"),
            Mark::Skip => ("-", "2"),
        };
        out.push_str(&format!("  {} {}\n", paint(mark, sgr, color), step.text));
        if let Some(why) = &step.why {
            out.push_str(&format!("      {why}\n"));
        }
        if let Some(fix) = &step.fix {
            out.push_str(&format!("      fix: {fix}\n"));
        }
    }
    let state = checked.verdict.state;
    let sgr = match state.group() {
        Group::Usable => "32",
        Group::Undetermined => "33",
        Group::Broken => "31",
    };
    out.push_str(&format!("  → {}\n", paint(state.as_str(), sgr, color)));
    out
}

/// `credwatch verify [NAME...]`.
pub fn verify(config: &Config, names: &[String]) -> anyhow::Result<i32> {
    let candidates = if names.is_empty() {
        // Every credential found here, like `status`.
        checks::found_here(config)?
            .into_iter()
            .map(|c| Candidate {
                definition: c.definition,
                only_if_detected: false,
            })
            .collect()
    } else {
        checks::named(config, names)?
    };
    if candidates.is_empty() {
        print("Nothing to verify: no credential was found on this machine (name one: credwatch verify claude)\n");
        return Ok(0);
    }
    let memory = Memory::load(crate::runtime::state_dir().as_deref());
    let color = use_color();
    let mut states = Vec::new();
    let mut text = String::new();
    for candidate in &candidates {
        let (checked, probe) = check_with_probe(config, &memory, candidate);
        let steps = store_steps(&checked, probe.as_ref());
        text.push_str(&render(&title(&checked), &steps, &checked, color));
        states.push(checked.verdict.state);
    }
    print(&text);
    Ok(exit_code(states))
}

fn title(checked: &Checked) -> String {
    format!("{} ({})", checked.definition.name, checked.definition.tool)
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
pub fn login(
    config: &Config,
    name: Option<&str>,
    argv: &[String],
    grace_ms: i64,
) -> anyhow::Result<i32> {
    let all = checks::candidates(config)?;
    let by_command = for_command(&all, argv);
    let matched_command = name.is_none() && !by_command.is_empty();
    let chosen: Vec<Candidate> = match name {
        Some(name) => checks::named(config, &[name.to_string()])?,
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
    let memory = Memory::load(crate::runtime::state_dir().as_deref());
    let before: Vec<Snapshot> = chosen
        .iter()
        .map(|c| snapshot(&check_now(config, &memory, c).observation))
        .collect();
    eprintln!("credwatch login: running {}", argv.join(" "));
    let exit = run_on_terminal(argv)?;
    let first: Vec<Checked> = chosen
        .iter()
        .map(|c| check_now(config, &memory, c))
        .collect();
    let changed: Vec<bool> = first
        .iter()
        .zip(&before)
        .map(|(checked, before)| snapshot(&checked.observation) != *before)
        .collect();
    // The credentials named or matched by the command are all reported; with neither, those the
    // command wrote to.
    let matched = name.is_some() || matched_command;
    let shown: Vec<usize> = (0..chosen.len())
        .filter(|&i| matched || changed[i])
        .collect();
    if shown.is_empty() {
        print(&format!(
            "✗ {} exited {} but wrote to none of the stores credwatch watches ({} definitions)
  fix: name the credential: credwatch login NAME -- {}
",
            argv[0],
            exit.code()
                .map_or_else(|| "by a signal".into(), |c| c.to_string()),
            chosen.len(),
            argv.join(" ")
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
        let mut steps = vec![exit_step(&exit, argv)];
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
    Ok(exit_code(states))
}

fn exit_step(exit: &std::process::ExitStatus, argv: &[String]) -> Step {
    use std::os::unix::process::ExitStatusExt;
    match (exit.code(), exit.signal()) {
        (Some(0), _) => Step::new(
            Mark::Pass,
            format!("the login command ({}) exited 0", argv[0]),
        ),
        (Some(code), _) => Step::new(
            Mark::Warn,
            format!("the login command ({}) exited {code}", argv[0]),
        ),
        (None, signal) => Step::new(
            Mark::Warn,
            format!(
                "the login command ({}) was killed by signal {}",
                argv[0],
                signal.unwrap_or(0)
            ),
        ),
    }
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

/// Runs `argv` attached to this terminal and waits for it; SIGTERM and SIGHUP sent to credwatch
/// are passed on, SIGINT and SIGQUIT (which the terminal sends to the command too) are absorbed.
fn run_on_terminal(argv: &[String]) -> anyhow::Result<std::process::ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut quit = signal(SignalKind::quit())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let mut child = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run {}: {e}\n  fix: check the command name and PATH", argv[0]))?;
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = done_tx.send(child.wait());
        });
        loop {
            tokio::select! {
                status = &mut done_rx => {
                    return Ok(status??);
                }
                _ = interrupt.recv() => {}
                _ = quit.recv() => {}
                _ = terminate.recv() => { let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM); }
                _ = hangup.recv() => { let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP); }
            }
        }
    })
}
