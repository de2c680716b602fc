//! From the file's shapes to validated definitions, with every problem located (`file:line:column`)
//! and a fix.

use super::model::*;
use super::raw::*;
use crate::support::docpath::DocPath;
use crate::support::timefmt::parse_duration;
use crate::tools::{line_column, Format};
use toml::Spanned;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {problem}\n  fix: {fix}")]
    Unreadable {
        path: String,
        problem: String,
        fix: String,
    },
    #[error("{location}: {message}\n  fix: {fix}")]
    Invalid {
        location: String,
        message: String,
        fix: String,
    },
}

/// Where a piece of TOML text came from, to turn byte spans into `file:line:column`.
pub struct Source<'a> {
    pub label: String,
    pub text: &'a str,
}

impl Source<'_> {
    pub(super) fn error_at(
        &self,
        span: std::ops::Range<usize>,
        message: String,
        fix: &str,
    ) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        // Messages quote the config's own text (a name, a value): it reaches a terminal inert.
        ConfigError::Invalid {
            location: format!("{}:{line}:{column}", self.label),
            message: crate::support::output::inert(&message).into_owned(),
            fix: crate::support::output::inert(fix).into_owned(),
        }
    }
}

/// `[notify]` and `[[on_change]]`.
fn validate_alerts(source: &Source<'_>, raw: &RawConfig) -> Result<Alerts, ConfigError> {
    let notify = raw.notify.clone().unwrap_or_default();
    let mut alerts = Alerts {
        desktop: notify.desktop.unwrap_or(true),
        undetermined: notify.undetermined.unwrap_or(false),
        ..Alerts::default()
    };
    if let Some(leads) = &notify.lead_times {
        let mut ms = Vec::new();
        for text in leads.get_ref() {
            ms.push(
                crate::support::timefmt::parse_duration(text)
                    .ok()
                    .filter(|ms| *ms > 0)
                    .ok_or_else(|| {
                        source.error_at(
                            leads.span(),
                            format!("lead time \"{text}\" is not a duration"),
                            "write lead_times = [\"1d\", \"1h\"]",
                        )
                    })?,
            );
        }
        ms.sort_unstable_by(|a, b| b.cmp(a));
        ms.dedup();
        alerts.lead_times_ms = ms;
    }
    for entry in &raw.on_change {
        let hook = entry.get_ref();
        let at = entry.span();
        if hook.command.first().is_none_or(|p| p.is_empty()) {
            return Err(source.error_at(
                at,
                "on_change needs a command".into(),
                "write command = [\"notify-send\", \"credwatch\"] (a program and its arguments)",
            ));
        }
        let on = match &hook.on {
            None => AlertKind::ALL
                .into_iter()
                .filter(|k| *k != AlertKind::Undetermined)
                .collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    AlertKind::ALL
                        .into_iter()
                        .find(|k| k.as_str() == name)
                        .ok_or_else(|| {
                            source.error_at(
                                at.clone(),
                                format!("on_change: \"{name}\" is not an event"),
                                "use broken, expiring, recovered, lead or undetermined",
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let timeout_ms = match &hook.timeout {
            None => DEFAULT_HOOK_TIMEOUT_MS,
            Some(text) => crate::support::timefmt::parse_duration(text)
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    source.error_at(
                        at.clone(),
                        format!("on_change timeout \"{text}\" is not a duration"),
                        "write timeout = \"10s\"",
                    )
                })?,
        };
        alerts.hooks.push(Hook {
            credentials: hook.credentials.clone(),
            on,
            argv: hook.command.clone(),
            timeout_ms,
        });
    }
    Ok(alerts)
}

/// Parses and validates config text.
pub fn parse(source: &Source<'_>) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        source.error_at(
            span,
            e.message().trim().to_string(),
            "correct this key or value (see `credwatch presets claude` for a complete example)",
        )
    })?;
    let warn_before_ms = match &raw.warn_before {
        Some(text) => duration_at(source, text)?,
        None => DEFAULT_WARN_BEFORE_MS,
    };
    let presets = match &raw.presets {
        None => PresetSelection::Auto,
        Some(selection) => match selection.get_ref() {
            RawPresetSelection::Mode(mode) if mode == "auto" => PresetSelection::Auto,
            RawPresetSelection::Mode(mode) if mode == "none" => PresetSelection::None,
            RawPresetSelection::Mode(other) => return Err(source.error_at(
                selection.span(),
                format!("presets = \"{other}\" is not a choice"),
                "write presets = \"auto\", presets = \"none\", or a list like [\"claude\", \"gh\"]",
            )),
            RawPresetSelection::List(names) => {
                for name in names {
                    if !crate::define::presets::names().any(|known| known == name) {
                        return Err(source.error_at(
                            selection.span(),
                            format!("unknown preset \"{name}\""),
                            &format!(
                                "use one of: {}",
                                crate::define::presets::names()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                }
                PresetSelection::List(names.clone())
            }
        },
    };
    let prompt_format = raw
        .prompt
        .as_ref()
        .and_then(|p| p.format.clone())
        .unwrap_or_else(|| DEFAULT_PROMPT_FORMAT.to_string());
    let mut definitions: Vec<Definition> = Vec::new();
    for credential in &raw.credentials {
        let definition = validate_credential(source, credential)?;
        if definitions.iter().any(|d| d.name == definition.name) {
            return Err(source.error_at(
                credential.name.span(),
                format!(
                    "a credential named \"{}\" is defined twice",
                    definition.name
                ),
                "give each [[credential]] its own name",
            ));
        }
        definitions.push(definition);
    }
    let keyring_poll_ms = match &raw.keyring_poll {
        Some(text) => {
            let ms = duration_at(source, text)?;
            if ms < 1000 {
                return Err(source.error_at(
                    text.span(),
                    "keyring_poll is shorter than 1 s".into(),
                    "write keyring_poll = \"30s\" (the default) or longer",
                ));
            }
            ms
        }
        None => DEFAULT_KEYRING_POLL_MS,
    };
    let alerts = validate_alerts(source, &raw)?;
    let long_commands = validate_long_commands(source, &raw, &definitions)?;
    Ok(Config {
        path: None,
        alerts,
        warn_before_ms,
        presets,
        prompt_format,
        keyring_poll_ms,
        prometheus_textfile: raw
            .export
            .as_ref()
            .and_then(|e| e.prometheus_textfile.clone()),
        long_commands,
        definitions,
        raw,
    })
}

/// `[long_commands]`: each a command (words, no control character) with a positive duration and
/// logins that exist (a preset's name or a `[[credential]]`'s).
fn validate_long_commands(
    source: &Source<'_>,
    raw: &RawConfig,
    definitions: &[Definition],
) -> Result<Vec<LongCommand>, ConfigError> {
    const FORM: &str =
        "write \"terraform apply\" = \"45m\", or \"make deploy\" = { needs = \"1h\", logins = [\"aws-sso\"] }";
    let mut long_commands = Vec::new();
    for (command, entry) in &raw.long_commands {
        let at = entry.span();
        let words: Vec<&str> = command.split_whitespace().collect();
        if words.is_empty() || command.chars().any(char::is_control) {
            return Err(source.error_at(
                at,
                format!("long_commands: \"{command}\" is not a command"),
                FORM,
            ));
        }
        let (needs, logins) = match entry.get_ref() {
            RawLongCommand::Needs(needs) => (needs, None),
            RawLongCommand::Table(table) => (&table.needs, table.logins.clone()),
        };
        let needs_ms = parse_duration(needs)
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| {
                source.error_at(
                    at.clone(),
                    format!("long_commands: \"{needs}\" ({command}) is not a duration"),
                    FORM,
                )
            })?;
        for name in logins.iter().flatten() {
            let known = crate::define::presets::names().any(|preset| preset == name)
                || definitions.iter().any(|d| &d.name == name);
            if !known {
                return Err(source.error_at(
                    at.clone(),
                    format!("long_commands: \"{command}\" names no credential \"{name}\""),
                    "name a preset or a [[credential]] (`credwatch status` lists those in use)",
                ));
            }
        }
        long_commands.push(LongCommand {
            command: words.join(" "),
            needs_ms,
            logins,
        });
    }
    Ok(long_commands)
}

fn duration_at(source: &Source<'_>, text: &Spanned<String>) -> Result<i64, ConfigError> {
    parse_duration(text.get_ref()).map_err(|why| {
        source.error_at(
            text.span(),
            why,
            "write a duration like \"3d\", \"12h\", \"30m\"",
        )
    })
}

fn path_at(source: &Source<'_>, text: &Spanned<String>) -> Result<DocPath, ConfigError> {
    DocPath::parse(text.get_ref()).map_err(|why| {
        source.error_at(
            text.span(),
            why,
            "write a field path like \"/claudeAiOauth/accessToken\"",
        )
    })
}

fn validate_credential(
    source: &Source<'_>,
    raw: &RawCredential,
) -> Result<Definition, ConfigError> {
    let name = raw.name.get_ref().clone();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !name_ok {
        return Err(source.error_at(
            raw.name.span(),
            format!("credential name \"{name}\" is not usable"),
            "use 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    let files = raw
        .file
        .as_ref()
        .map(|f| f.get_ref().to_vec())
        .unwrap_or_default();
    if files.is_empty() && raw.keyring.is_none() {
        return Err(source.error_at(
            raw.name.span(),
            format!("credential \"{name}\" has no store"),
            "add file = \"~/path/to/credential\" or keyring = { service = \"…\", account = \"…\" }",
        ));
    }
    if let Some(file) = &raw.file {
        for spec in file.get_ref().to_vec() {
            if let Err(crate::support::paths::Unexpanded::Malformed(why)) =
                crate::support::paths::expand(&spec)
            {
                return Err(source.error_at(
                    file.span(),
                    why,
                    "write paths like \"~/.tool/token.json\" or \"${TOOL_DIR:-~/.tool}/token.json\"",
                ));
            }
        }
    }
    let spanned_list =
        |field: &Option<Spanned<OneOrMany>>| -> Vec<(String, std::ops::Range<usize>)> {
            field
                .as_ref()
                .map(|f| {
                    f.get_ref()
                        .to_vec()
                        .into_iter()
                        .map(|s| (s, f.span()))
                        .collect()
                })
                .unwrap_or_default()
        };
    let mut secret = Vec::new();
    for (text, span) in spanned_list(&raw.secret) {
        secret.push(path_at(source, &Spanned::new(span, text))?);
    }
    let format = raw.format.unwrap_or(Format::Text);
    if secret.is_empty() && !files.is_empty() {
        if format == Format::Text {
            secret.push(DocPath::parse("").expect("the empty path is valid"));
        } else {
            return Err(source.error_at(
                raw.name.span(),
                format!("credential \"{name}\" reads a {format} file but names no secret field"),
                "add secret = \"/path/to/token\" (the field that must be present and non-empty)",
            ));
        }
    }
    let mut expires = Vec::new();
    for (text, span) in spanned_list(&raw.expires) {
        expires.push(ExpirySpec::parse(&text).map_err(|why| {
            source.error_at(
                span,
                why,
                "write expires = \"/expires_at\" or \"jwt:/access_token\"",
            )
        })?);
    }
    let refresh_expires = match &raw.refresh_expires {
        Some(text) => Some(ExpirySpec::parse(text.get_ref()).map_err(|why| {
            source.error_at(
                text.span(),
                why,
                "write refresh_expires = \"/refresh_expires_at\"",
            )
        })?),
        None => None,
    };
    let renewable_until = match &raw.renewable_until {
        Some(text) => Some(ExpirySpec::parse(text.get_ref()).map_err(|why| {
            source.error_at(
                text.span(),
                why,
                "write renewable_until = \"/tgt/renew_till\"",
            )
        })?),
        None => None,
    };
    let refresh_until = match &raw.refresh_until {
        Some(text) => Some(ExpirySpec::parse(text.get_ref()).map_err(|why| {
            source.error_at(
                text.span(),
                why,
                "write refresh_until = \"/registrationExpiresAt\"",
            )
        })?),
        None => None,
    };
    let file_from = match &raw.file_from {
        Some(from) => {
            let value = from.get_ref();
            let files = value.file.to_vec();
            for spec in &files {
                if let Err(crate::support::paths::Unexpanded::Malformed(why)) =
                    crate::support::paths::expand(spec)
                {
                    return Err(source.error_at(
                        from.span(),
                        why,
                        "write paths like \"~/.gitconfig\"",
                    ));
                }
            }
            if let Some(option) = value.option.as_ref().filter(|o| !o.starts_with('-')) {
                return Err(source.error_at(
                    from.span(),
                    format!("file_from.option \"{option}\" is not an option"),
                    "name the option that gives the path, like option = \"--file\"",
                ));
            }
            Some(FileFrom {
                files,
                format: value.format,
                path: DocPath::parse(&value.path).map_err(|why| {
                    source.error_at(
                        from.span(),
                        why,
                        "write a field path like \"/credential/helper\"",
                    )
                })?,
                option: value.option.clone(),
            })
        }
        None => None,
    };
    let marker_at = |marker: &Option<RawAccountMarker>| -> Result<_, ConfigError> {
        marker
            .as_ref()
            .map(|marker| {
                Ok(AccountMarker {
                    file: marker.file.clone(),
                    format: marker.format,
                    path: path_at(source, &marker.path)?,
                })
            })
            .transpose()
    };
    let account_marker = marker_at(&raw.account_marker)?;
    let active_account = marker_at(&raw.active_account)?;
    let probe = match &raw.probe {
        Some(probe) => Some(validate_probe(source, probe)?),
        None => None,
    };
    let keyring = match &raw.keyring {
        Some(spec) => Some(validate_keyring(source, raw.name.span(), &name, spec)?),
        None => None,
    };
    Ok(Definition {
        tool: raw.tool.clone().unwrap_or_else(|| name.clone()),
        fix: raw
            .fix
            .clone()
            .unwrap_or_else(|| format!("log in to {} again", raw.tool.as_deref().unwrap_or(&name))),
        name,
        files,
        format,
        secret,
        blank: raw.blank.unwrap_or_default(),
        login_entry: raw
            .login_entry
            .as_ref()
            .map(|p| path_at(source, p))
            .transpose()?,
        expires,
        expires_unit: raw.expires_unit.unwrap_or_default(),
        refresh_token: raw
            .refresh_token
            .as_ref()
            .map(|p| path_at(source, p))
            .transpose()?,
        refresh_expires,
        refresh_until,
        renewable_until,
        renews_itself: raw.renews_itself.unwrap_or(false),
        secret_name: raw.secret_name.clone(),
        others: match &raw.others {
            Some(others) => Some((path_at(source, &others.path)?, others.say.clone())),
            None => None,
        },
        file_from,
        detect: raw.detect.unwrap_or_default(),
        account_marker,
        active_account,
        keyring: keyring.map(Box::new),
        env: raw.env.clone(),
        env_expires: validate_env_expires(source, raw)?,
        commands: raw.commands.clone(),
        logout: raw.logout.clone(),
        warn_before_ms: raw
            .warn_before
            .as_ref()
            .map(|d| duration_at(source, d))
            .transpose()?,
        probe: probe.map(Box::new),
        raw: Some(raw.clone()),
    })
}

/// `env_expires`: variable names, and only beside `env` (they date the login it gives).
fn validate_env_expires(
    source: &Source<'_>,
    raw: &RawCredential,
) -> Result<Vec<String>, ConfigError> {
    for name in &raw.env_expires {
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(source.error_at(
                raw.name.span(),
                format!("env_expires: \"{name}\" is not a variable name"),
                "write env_expires = [\"AWS_CREDENTIAL_EXPIRATION\"]",
            ));
        }
    }
    if !raw.env_expires.is_empty() && raw.env.is_empty() {
        return Err(source.error_at(
            raw.name.span(),
            "env_expires dates the login that `env` gives the tool, and there is no `env`".into(),
            "add env = [\"THE_TOKEN_VARIABLE\"], or remove env_expires",
        ));
    }
    Ok(raw.env_expires.clone())
}

fn validate_probe(
    source: &Source<'_>,
    probe: &Spanned<RawProbe>,
) -> Result<ProbeSpec, ConfigError> {
    let raw = probe.get_ref();
    let fail = |message: String, fix: &str| source.error_at(probe.span(), message, fix);
    match (&raw.command, &raw.http) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(fail(
                "a probe needs exactly one of `command` or `http`".into(),
                "write probe = { command = [\"tool\", \"whoami\"] } or probe = { http = \"https://…\", bearer = \"/access_token\" }",
            ))
        }
        (Some(argv), None) if argv.is_empty() => {
            return Err(fail("probe command is empty".into(), "name the program to run"))
        }
        (None, Some(url)) => {
            if let Err(why) = crate::support::destination::may_carry_a_token(url) {
                return Err(fail(
                    format!("probe URL \"{url}\" {why}"),
                    "use an https:// URL (plain http is allowed only to 127.0.0.0/8, localhost or [::1])",
                ));
            }
        }
        _ => {}
    }
    let duration = |text: &Option<String>, default: i64| -> Result<i64, ConfigError> {
        match text {
            Some(text) => parse_duration(text)
                .map_err(|why| fail(why, "write a duration like \"15m\" or \"5s\"")),
            None => Ok(default),
        }
    };
    let every_ms = duration(&raw.every, DEFAULT_PROBE_EVERY_MS)?;
    let timeout_ms = duration(&raw.timeout, DEFAULT_PROBE_TIMEOUT_MS)?;
    if every_ms < 10_000 {
        return Err(fail(
            "probe every is shorter than 10 s".into(),
            "probe at most every 10 s (every = \"15m\" is the default)",
        ));
    }
    let kind = match (&raw.command, &raw.http) {
        (Some(argv), _) => ProbeKind::Command {
            argv: argv.clone(),
            rejected_exit_codes: raw.rejected_exit_codes.clone(),
            rejected_output: raw.rejected_output.clone(),
        },
        (None, Some(url)) => ProbeKind::Http {
            url: url.clone(),
            bearer: match &raw.bearer {
                Some(path) => Some(DocPath::parse(path).map_err(|why| {
                    fail(
                        why,
                        "write bearer = \"/access_token\" (the field that holds the token)",
                    )
                })?),
                None => None,
            },
            bearer_env: {
                for name in &raw.bearer_env {
                    if !crate::support::environ::is_name(name.as_bytes()) {
                        return Err(fail(
                            format!("probe bearer_env: \"{name}\" is not a variable name"),
                            "write bearer_env = [\"GH_TOKEN\"]",
                        ));
                    }
                }
                raw.bearer_env.clone()
            },
            expires_header: raw.expires_header.clone(),
        },
        (None, None) => unreachable!("checked above"),
    };
    Ok(ProbeSpec {
        kind,
        every_ms,
        timeout: std::time::Duration::from_millis(timeout_ms.max(1) as u64),
        on_request: raw.on_request.unwrap_or(false),
    })
}

fn validate_keyring(
    source: &Source<'_>,
    span: std::ops::Range<usize>,
    name: &str,
    spec: &KeyringSpec,
) -> Result<Keyring, ConfigError> {
    let bad = |message: String, fix: &str| source.error_at(span.clone(), message, fix);
    if spec.service.is_none() && spec.attributes.is_empty() {
        return Err(bad(
            format!("credential \"{name}\": keyring names no item"),
            "add service = \"…\" (and account = \"…\"), or attributes = { key = \"value\" }",
        ));
    }
    let each = match &spec.each {
        Some(text) => Some(DocPath::parse(text).map_err(|why| {
            bad(
                format!("credential \"{name}\": keyring.each: {why}"),
                "write a field path with * like \"/*/users/*\"",
            )
        })?),
        None => None,
    };
    let when = match &spec.when {
        Some(when) => {
            let path = DocPath::parse(&when.path).map_err(|why| {
                bad(
                    format!("credential \"{name}\": keyring.when.path: {why}"),
                    "write a field path like \"/credsStore\"",
                )
            })?;
            let test = match (&when.equals, &when.contains) {
                (Some(value), None) => ValueTest::Equals(value.clone()),
                (None, Some(value)) => ValueTest::Contains(value.clone()),
                _ => {
                    return Err(bad(
                        format!("credential \"{name}\": keyring.when needs exactly one test"),
                        "write when = { path = \"/field\", equals = \"value\" } (or contains = \"part\")",
                    ))
                }
            };
            Some((path, test))
        }
        None => None,
    };
    let expires = match spec.expires.as_deref() {
        None => None,
        Some("jwt") => Some(SecretExpiry::Jwt),
        Some(text) => match text.strip_prefix("key:") {
            Some(key) if !key.is_empty() => Some(SecretExpiry::Key(key.to_string())),
            _ => {
                return Err(bad(
                    format!("credential \"{name}\": keyring.expires \"{text}\" is not understood"),
                    "write expires = \"jwt\" (the secret is a JWT) or \"key:NAME\" (a NAME=epoch line in the secret)",
                ))
            }
        },
    };
    if let Some(active) = &spec.active {
        let parses = DocPath::parse(&active.replace(['{', '}'], "")).is_ok();
        if each.is_none() || !parses {
            return Err(bad(
                format!("credential \"{name}\": keyring.active \"{active}\" needs keyring.each and a field path"),
                "write each = \"/*/users/*\" and active = \"/{1}/user\" (the field naming the account in use)",
            ));
        }
    }
    let captures = each.as_ref().map_or(0, DocPath::wildcards);
    let mut templates: Vec<&str> = spec.attributes.values().map(String::as_str).collect();
    templates.extend(spec.active.as_deref());
    templates.extend(spec.service.as_deref());
    templates.extend(spec.account.as_deref());
    for template in templates {
        for n in placeholders(template) {
            if n == 0 || n > captures {
                return Err(bad(
                    format!("credential \"{name}\": keyring \"{template}\" uses {{{n}}}, but keyring.each has {captures} `*`"),
                    "number the placeholders from {1} up to the count of `*` in keyring.each",
                ));
            }
        }
    }
    Ok(Keyring {
        spec: spec.clone(),
        each,
        in_file: spec.in_file.clone(),
        when,
        expires,
    })
}

/// The numbers of the `{N}` placeholders in a keyring template.
pub fn placeholders(template: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                if let Ok(n) = after[..close].parse::<usize>() {
                    out.push(n);
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, String> {
        let source = Source {
            label: "config.toml".into(),
            text,
        };
        parse(&source).map_err(|e| e.to_string())
    }

    #[test]
    fn contract_example_parses() {
        let config = parse_text(
            r#"
warn_before = "3d"
presets = "auto"

[prompt]
format = "⚠ {names}"

[[credential]]
name = "my-api"
file = "~/.config/my-api/token.json"
format = "json"
secret = "/access_token"
expires = "/expires_at"
keyring = { service = "my-api", account = "me" }
commands = ["my-api"]
fix = "my-api login"
probe = { command = ["my-api", "whoami"], every = "15m", timeout = "5s" }
"#,
        )
        .unwrap();
        assert_eq!(config.warn_before_ms, DEFAULT_WARN_BEFORE_MS);
        let def = &config.definitions[0];
        assert_eq!(def.secret[0].to_string(), "/access_token");
        assert_eq!(
            def.keyring.as_ref().unwrap().spec.account.as_deref(),
            Some("me")
        );
    }

    #[test]
    fn typo_names_line_and_column() {
        let err = parse_text("[[credential]]\nname = \"x\"\nfiel = \"~/x\"\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:3:1: unknown field `fiel`"),
            "{err}"
        );
        let err = parse_text("warn_before = 3\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:1:15: invalid type: integer"),
            "{err}"
        );
        let err = parse_text("warn_before = \"3 days\"\n").unwrap_err();
        assert!(err.starts_with("config.toml:1:15:"), "{err}");
        let err = parse_text("[[credential]]\nname = \"x\"\nfile = \"~/x\"\nformat = \"jsn\"\n")
            .unwrap_err();
        assert!(
            err.starts_with("config.toml:4:10: unknown variant `jsn`"),
            "{err}"
        );
    }

    #[test]
    fn semantic_errors_are_located() {
        let err = parse_text(
            "[[credential]]\nname = \"x\"\nfile = \"~/x\"\nformat = \"json\"\nsecret = \"token\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("config.toml:5:10: field path \"token\" must start with"),
            "{err}"
        );
        let err = parse_text("[[credential]]\nname = \"x\"\n").unwrap_err();
        assert!(err.contains("has no store"), "{err}");
        let err = parse_text("presets = [\"cluade\"]\n").unwrap_err();
        assert!(err.contains("unknown preset \"cluade\""), "{err}");
        let err = parse_text(
            "[[credential]]\nname = \"x\"\nfile = \"~/x\"\nprobe = { http = \"http://api.example.com\" }\n",
        )
        .unwrap_err();
        assert!(err.contains("not HTTPS"), "{err}");
    }
}
