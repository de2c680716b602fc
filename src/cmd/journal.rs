//! `credwatch journal [NAME]`: what happened to each credential, oldest first.

use super::{Context, Run};
use crate::cli::JournalArgs;
use crate::engine::journal::Journal;
use crate::support::output::print;
use crate::support::timefmt::Timestamp;

impl Run for JournalArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        show(self.name.as_deref(), self.json)
    }
}

fn show(name: Option<&str>, json: bool) -> anyhow::Result<i32> {
    let Some(dir) = crate::support::runtime::state_dir() else {
        anyhow::bail!("cannot tell where the journal is: $HOME and $XDG_STATE_HOME are unset\n  fix: set HOME");
    };
    let entries: Vec<_> = Journal::read(&dir)
        .into_iter()
        .filter(|e| name.is_none_or(|n| e.name == n))
        .collect();
    let mut out = String::new();
    if json {
        for entry in &entries {
            out.push_str(&serde_json::to_string(entry)?);
            out.push('\n');
        }
    } else if entries.is_empty() {
        out.push_str(&format!(
            "The journal is empty{}: the daemon writes it (credwatch daemon).\n",
            name.map(|n| format!(" for {n}")).unwrap_or_default()
        ));
    } else {
        let width = entries
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0);
        for entry in &entries {
            let at = Timestamp::parse_datetime(&entry.at).map_or(entry.at.clone(), |t| t.human());
            let what = match entry.event.as_str() {
                "state" => format!(
                    "{} → {}",
                    entry.from.as_deref().unwrap_or("(new)"),
                    entry.to.as_deref().unwrap_or("?")
                ),
                other => other.to_string(),
            };
            let detail = entry
                .detail
                .as_deref()
                .or(entry.path.as_deref())
                .unwrap_or("");
            out.push_str(&format!("{at}  {:<width$}  {what}  {detail}\n", entry.name));
        }
    }
    print(&out);
    Ok(0)
}
