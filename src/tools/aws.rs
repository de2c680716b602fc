//! The AWS CLI's shared credentials file (`~/.aws/credentials`, INI), seen from the profile in
//! use: `AWS_PROFILE` names it, else `default`.
//!
//! ```text
//! {"profile-name": "admin", "profile": {…that section's keys…}, "other-profiles": ["default"]}
//! ```
//!
//! `profile` is absent when the file has no such section. Each other profile, up to
//! [`super::ACCOUNT_LIMIT`], is viewed the same way in `accounts` (each with `account`, its
//! name); the view in use names itself in `account` too.

use crate::support::secret::EnvRef;
use serde_json::{Map, Value};

/// The profile view of a parsed credentials file, and the variable it depends on.
pub(super) fn view(ini: Value, profile: Option<String>) -> (Value, Vec<EnvRef>) {
    let env = vec![EnvRef::selects("AWS_PROFILE", profile.is_some())];
    let name = profile
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".into());
    let sections = match ini {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut view = Map::new();
    view.insert(
        "other-profiles".into(),
        Value::Array(
            sections
                .iter()
                .filter(|(key, value)| *key != &name && value.is_object())
                .map(|(key, _)| Value::String(key.clone()))
                .collect(),
        ),
    );
    view.insert(
        "accounts".into(),
        Value::Array(
            sections
                .iter()
                .filter(|(key, value)| *key != &name && value.is_object())
                .take(super::ACCOUNT_LIMIT)
                .map(|(key, section)| {
                    serde_json::json!({"account": key, "profile-name": key, "profile": section})
                })
                .collect(),
        ),
    );
    if let Some(section) = sections.get(&name).filter(|s| s.is_object()) {
        view.insert("profile".into(), section.clone());
    }
    view.insert("account".into(), Value::String(name.clone()));
    view.insert("profile-name".into(), Value::String(name));
    (Value::Object(view), env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aws_profile_selects_the_section_and_default_is_the_fallback() {
        let file =
            json!({"default": {"aws_access_key_id": "A"}, "admin": {"aws_access_key_id": "B"}});
        let (view_admin, env) = view(file.clone(), Some("admin".into()));
        assert_eq!(view_admin["profile"]["aws_access_key_id"], "B");
        assert_eq!(view_admin["other-profiles"], json!(["default"]));
        assert_eq!(view_admin["account"], "admin");
        assert_eq!(
            view_admin["accounts"],
            json!([{"account": "default", "profile-name": "default", "profile": {"aws_access_key_id": "A"}}])
        );
        assert_eq!(env, vec![EnvRef::selects("AWS_PROFILE", true)]);
        let (view_default, env) = view(file.clone(), None);
        assert_eq!(view_default["profile"]["aws_access_key_id"], "A");
        assert_eq!(env, vec![EnvRef::selects("AWS_PROFILE", false)]);
        let (missing, _) = view(file, Some("nope".into()));
        assert!(missing.get("profile").is_none());
    }
}
