//! kubeconfig files as kubectl reads them: the files of `KUBECONFIG=a:b:c` merged (the first
//! file to set `current-context` wins, and for each named user and context the first file that
//! names it), then seen from the current context:
//!
//! ```text
//! {"current-context": "prod", "user-name": "alice", "user": {…alice's user fields…},
//!  "users": [{"name": …, "user": {…}}, …], "other-users": ["bob"]}
//! ```
//!
//! `user` is absent when no current context (or its user) is set.

use serde_json::{Map, Value};

/// Merges the files (each already parsed as YAML) and views them from the current context.
pub(super) fn view(files: Vec<Value>) -> Value {
    let mut current: Option<String> = None;
    let mut contexts: Vec<(String, Value)> = Vec::new();
    let mut users: Vec<(String, Value)> = Vec::new();
    for file in &files {
        if current.is_none() {
            current = file
                .get("current-context")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(String::from);
        }
        merge_named(&mut contexts, file.get("contexts"));
        merge_named(&mut users, file.get("users"));
    }
    let user_name = current.as_ref().and_then(|current| {
        contexts
            .iter()
            .find(|(name, _)| name == current)
            .and_then(|(_, entry)| entry.pointer("/context/user"))
            .and_then(Value::as_str)
            .map(String::from)
    });
    let user = user_name.as_ref().and_then(|wanted| {
        users
            .iter()
            .find(|(name, _)| name == wanted)
            .and_then(|(_, entry)| entry.get("user"))
            .cloned()
    });
    let mut view = Map::new();
    view.insert(
        "current-context".into(),
        current.map_or(Value::Null, Value::String),
    );
    view.insert(
        "other-users".into(),
        Value::Array(
            users
                .iter()
                .filter(|(name, _)| Some(name) != user_name.as_ref())
                .map(|(name, _)| Value::String(name.clone()))
                .collect(),
        ),
    );
    view.insert(
        "users".into(),
        Value::Array(users.into_iter().map(|(_, entry)| entry).collect()),
    );
    view.insert(
        "user-name".into(),
        user_name.map_or(Value::Null, Value::String),
    );
    if let Some(user) = user {
        view.insert("user".into(), user);
    }
    Value::Object(view)
}

/// Adds the named entries of `list` that are not there yet (the first file naming one wins).
fn merge_named(into: &mut Vec<(String, Value)>, list: Option<&Value>) {
    for entry in list.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        if !into.iter().any(|(known, _)| known == name) {
            into.push((name.to_string(), entry.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(current: Option<&str>, users: &[(&str, &str)], contexts: &[(&str, &str)]) -> Value {
        json!({
            "current-context": current,
            "users": users.iter().map(|(n, t)| json!({"name": n, "user": {"token": t}})).collect::<Vec<_>>(),
            "contexts": contexts.iter().map(|(n, u)| json!({"name": n, "context": {"user": u}})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn the_current_contexts_user_decides_and_the_others_are_named() {
        let a = config(Some("prod"), &[("alice", "A")], &[("prod", "alice")]);
        let b = config(None, &[("bob", "B"), ("alice", "other")], &[("dev", "bob")]);
        let view = view(vec![a, b]);
        assert_eq!(view["current-context"], "prod");
        assert_eq!(view["user-name"], "alice");
        assert_eq!(
            view["user"]["token"], "A",
            "the first file naming alice wins"
        );
        assert_eq!(view["other-users"], json!(["bob"]));
    }

    #[test]
    fn the_first_file_setting_the_current_context_wins_even_for_a_user_in_a_later_one() {
        let a = config(Some("dev"), &[], &[]);
        let b = config(Some("prod"), &[("bob", "B")], &[("dev", "bob")]);
        let view = view(vec![a, b]);
        assert_eq!(view["user-name"], "bob");
        assert_eq!(view["user"]["token"], "B");
    }

    #[test]
    fn no_current_context_means_no_user() {
        let view = view(vec![config(None, &[("alice", "A")], &[("prod", "alice")])]);
        assert!(view.get("user").is_none());
        assert_eq!(view["other-users"], json!(["alice"]));
        assert!(super::view(vec![json!(null), json!("text")])
            .get("user")
            .is_none());
    }
}
