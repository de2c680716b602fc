//! `credwatch verify [NAME...]`: prove, step by step, that a login persisted where the tool will
//! look for it, and that the server accepts it. The steps are shared with `login`.
//!
//! Guarantees: each check prints ✓, ✗ or ! with the cause and the fix; exit codes follow
//! docs/contract.md: 0 all usable, 1 one broken, 3 none broken but some undetermined. Nothing
//! here writes a credential.

use super::{Context, Run};
use crate::cli::VerifyArgs;
use crate::define::config::Config;
use crate::define::state::{exit_code, Group, State};
use crate::engine::memory::Memory;
use crate::engine::{self, Candidate, Checked, Context as CheckContext, KeyringSource};
use crate::probe::{ProbeReport, ProbeResult};
use crate::store::FileStatus;
use crate::support::output::{paint, print, use_color};
use crate::support::paths::display_short;

impl Run for VerifyArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        verify(&context.config()?, &self.names)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Pass,
    Fail,
    Warn,
    Skip,
}

pub(super) struct Step {
    mark: Mark,
    text: String,
    why: Option<String>,
    fix: Option<String>,
}

impl Step {
    pub(super) fn new(mark: Mark, text: impl Into<String>) -> Self {
        Step {
            mark,
            text: text.into(),
            why: None,
            fix: None,
        }
    }

    pub(super) fn because(mut self, why: impl Into<String>, fix: Option<String>) -> Self {
        self.why = Some(why.into());
        self.fix = fix;
        self
    }
}

/// Checks one credential now, as the user, asking the keyring.
pub(super) fn check_now(config: &Config, memory: &Memory, candidate: &Candidate) -> Checked {
    let context = CheckContext {
        memory,
        env_is_users_shell: true,
        keyring: KeyringSource::LookNow,
        probe: None,
    };
    let candidate = Candidate {
        definition: candidate.definition.clone(),
        only_if_detected: false,
    };
    engine::check_one(config, &candidate, &context).expect("a named check always returns")
}

/// Checks, then runs the probe when the credential looks usable here, and checks again with its
/// answer.
pub(super) fn check_with_probe(
    config: &Config,
    memory: &Memory,
    candidate: &Candidate,
) -> (Checked, Option<ProbeReport>) {
    let mut checked = check_now(config, memory, candidate);
    let Some(spec) = &candidate.definition.probe else {
        return (checked, None);
    };
    if !crate::probe::applies(spec) {
        return (checked, None);
    }
    // A token in a variable of the shell that the probe sends (GH_TOKEN): asked about although
    // the stored login is not what counts.
    let sends_the_shadowing_token = matches!(
        &spec.kind,
        crate::define::config::ProbeKind::Http { bearer_env, .. }
            if bearer_env.iter().any(|v| checked.observation.shadowed_by.contains(v))
    );
    if !checked.verdict.state.is_usable() && !sends_the_shadowing_token {
        return (checked, None);
    }
    let file = checked.observation.primary_file().map(|f| f.path.clone());
    let report = crate::probe::run(&candidate.definition, spec, file.as_deref());
    checked.history.probe = Some(report.clone());
    engine::rejudge(config, &mut checked);
    (checked, Some(report))
}

/// The checks every verification makes, from one check's result.
pub(super) fn store_steps(checked: &Checked, probe: Option<&ProbeReport>) -> Vec<Step> {
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
                format!("{names} decides the login in this shell, not this store"),
            )
            .because(
                format!(
                    "{names} is set here and {} uses it instead of the stored login ({})",
                    definition.tool,
                    match probe.and_then(|p| p.token_from.as_deref()) {
                        Some(variable) => format!("the server was asked about {variable}: below"),
                        None => "a token in a variable is not checked".to_string(),
                    }
                ),
                Some(crate::evaluate::overlay::shadowing_fix(
                    &observation.shadowed_by,
                    &definition.name,
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
        (None, Some(spec)) if !crate::probe::applies(spec) => {
            let variables = match &spec.kind {
                crate::define::config::ProbeKind::Http { bearer_env, .. } => bearer_env.join(", "),
                crate::define::config::ProbeKind::Command { .. } => String::new(),
            };
            steps.push(Step::new(
                Mark::Skip,
                format!(
                    "the server was not asked (its probe sends only {variables}, and none is set)"
                ),
            ));
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

pub(super) fn render(title: &str, steps: &[Step], checked: &Checked, color: bool) -> String {
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

pub(super) fn title(checked: &Checked) -> String {
    let (name, tool) = (&checked.definition.name, &checked.definition.tool);
    // "git (credential store)", not "git (git (credential store))".
    if tool
        .to_ascii_lowercase()
        .starts_with(&format!("{} ", name.to_ascii_lowercase()))
    {
        tool.clone()
    } else {
        format!("{name} ({tool})")
    }
}

/// `credwatch verify [NAME...]`.
fn verify(config: &Config, names: &[String]) -> anyhow::Result<i32> {
    let candidates = if names.is_empty() {
        // Every credential found here, like `status`.
        engine::found_here(config)?
            .into_iter()
            .map(|c| Candidate {
                definition: c.definition,
                only_if_detected: false,
            })
            .collect()
    } else {
        super::named(config, names)?
    };
    if candidates.is_empty() {
        print("Nothing to verify: no credential was found on this machine (name one: credwatch verify claude)\n");
        return Ok(0);
    }
    let memory = Memory::load(crate::support::runtime::state_dir().as_deref());
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
