//! `credwatch presets [NAME]`: the built-in definitions and whether each finds a store here.

use super::{Context, Run};
use crate::cli::PresetsArgs;
use crate::define::presets;
use crate::store::observe;
use crate::support::output::print;

impl Run for PresetsArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        list(self.name.as_deref())
    }
}

fn list(name: Option<&str>) -> anyhow::Result<i32> {
    if let Some(name) = name {
        let Some(source) = presets::source(name) else {
            return Err(super::UsageError(format!(
                "no preset named \"{name}\"\n  fix: use one of: {}",
                presets::names().collect::<Vec<_>>().join(", ")
            ))
            .into());
        };
        print(source);
        return Ok(0);
    }
    let mut rows = vec![[
        "NAME".to_string(),
        "FOUND".into(),
        "TOOL".into(),
        "STORE".into(),
    ]];
    for name in presets::names() {
        let definition = crate::define::config::preset(name).expect("known preset")?;
        let found = observe(&definition).detected(&definition);
        let store = definition
            .files
            .first()
            .cloned()
            .or_else(|| definition.keyring.as_ref().map(|k| k.describe()))
            .unwrap_or_default();
        rows.push([
            name.to_string(),
            if found { "yes" } else { "no" }.into(),
            definition.tool.clone(),
            store,
        ]);
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    out.push_str(
        "\n`credwatch presets NAME` prints a definition to copy into config.toml and adapt.\n",
    );
    print(&out);
    Ok(0)
}
