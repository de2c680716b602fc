//! kubeconfig files as kubectl reads them: the files of `KUBECONFIG=a:b:c` merged (the first
//! file to set `current-context` wins, and for each named user and context the first file that
//! names it), then seen from the current context:
//!
//! ```text
//! {"current-context": "prod", "user-name": "alice", "user": {…alice's user fields…},
//!  "users": [{"name": …, "user": {…}}, …], "other-users": ["bob"]}
//! ```
//!
//! `user` is absent when no current context (or its user) is set. Each other context, up to
//! [`super::ACCOUNT_LIMIT`], is viewed the same way in `accounts` (each with `account`, its
//! name), so that the login each would use can be judged; the view in use names itself in
//! `account` too.

use serde_json::{Map, Value};

/// Merges the files (each already parsed as YAML) and views them from the current context.
pub(super) fn view(files: Vec<Value>) -> Value {
    let mut current: Option<String> = None;
    let mut contexts = Named::default();
    let mut users = Named::default();
    for mut file in files {
        if current.is_none() {
            current = file
                .get("current-context")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(String::from);
        }
        merge_named(&mut contexts, file.get_mut("contexts").map(Value::take));
        merge_named(&mut users, file.get_mut("users").map(Value::take));
    }
    // A context's user: its name, and that user's fields where a file has them.
    let user_of = |context: &Value| -> (Option<String>, Option<Value>) {
        let name = context
            .pointer("/context/user")
            .and_then(Value::as_str)
            .map(String::from);
        let user = name
            .as_ref()
            .and_then(|wanted| users.get(wanted))
            .and_then(|entry| entry.get("user"))
            .cloned();
        (name, user)
    };
    let (user_name, user) = current
        .as_ref()
        .and_then(|current| contexts.get(current))
        .map_or((None, None), user_of);
    // The other contexts, each as the view it would give (bounded: a file of thousands of
    // contexts is judged on the first ones).
    let accounts: Vec<Value> = contexts
        .entries
        .iter()
        .filter(|(name, _)| Some(name) != current.as_ref())
        .take(super::ACCOUNT_LIMIT)
        .map(|(name, context)| {
            let (user_name, user) = user_of(context);
            let mut account = Map::new();
            account.insert("account".into(), Value::String(name.clone()));
            account.insert("current-context".into(), Value::String(name.clone()));
            account.insert(
                "user-name".into(),
                user_name.map_or(Value::Null, Value::String),
            );
            if let Some(user) = user {
                account.insert("user".into(), user);
            }
            Value::Object(account)
        })
        .collect();
    let users = users.entries;
    let mut view = Map::new();
    if let Some(current) = &current {
        view.insert("account".into(), Value::String(current.clone()));
    }
    view.insert("accounts".into(), Value::Array(accounts));
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

/// Entries by name, the first of each name kept, in order: a set of the names seen makes every
/// addition O(1) (a list searched per entry was quadratic: 60,000 users took seconds, #25).
#[derive(Default)]
struct Named {
    entries: Vec<(String, Value)>,
    /// Where each name is in `entries`.
    index: std::collections::HashMap<String, usize>,
}

impl Named {
    fn get(&self, wanted: &str) -> Option<&Value> {
        self.index.get(wanted).map(|&i| &self.entries[i].1)
    }
}

/// Adds the named entries of `list` that are not there yet (the first file naming one wins).
fn merge_named(into: &mut Named, list: Option<Value>) {
    let Some(Value::Array(list)) = list else {
        return;
    };
    for entry in list {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        if !into.index.contains_key(name) {
            into.index.insert(name.to_string(), into.entries.len());
            into.entries.push((name.to_string(), entry));
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

    /// Issue #25: the names were merged by searching a list for each (60,000 users took 7 s in
    /// `status`, `KUBECONFIG=a:b` with 60,000 in each 32 s). Now linear: 2 × 100,000 users,
    /// distinct and the same, are viewed in under a second (5 s allowed: a debug build, CI noise;
    /// the quadratic merge took minutes here).
    #[test]
    fn kubeconfig_names_are_not_quadratic() {
        let users = |from: usize| -> Vec<(String, String)> {
            (from..from + 100_000)
                .map(|i| (format!("user-{i}"), "t".to_string()))
                .collect()
        };
        let file = |users: &[(String, String)]| {
            let users: Vec<(&str, &str)> = users
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            config(Some("c"), &users, &[("c", "user-5")])
        };
        let (a, b) = (users(0), users(1_000_000));
        for files in [vec![file(&a), file(&b)], vec![file(&a), file(&a)]] {
            let started = std::time::Instant::now();
            let view = view(files);
            let took = started.elapsed();
            assert_eq!(view["user-name"], "user-5");
            assert!(view["other-users"].as_array().unwrap().len() >= 99_999);
            assert!(took.as_secs_f64() < 5.0, "{took:?} for 2 × 100,000 users");
        }
    }

    #[test]
    fn each_other_context_is_viewed_as_the_login_it_would_use() {
        let view = view(vec![config(
            Some("prod"),
            &[("alice", "A"), ("bob", "B")],
            &[("prod", "alice"), ("dev", "bob"), ("lost", "nobody")],
        )]);
        assert_eq!(view["account"], "prod");
        assert_eq!(
            view["accounts"],
            json!([
                {"account": "dev", "current-context": "dev", "user-name": "bob", "user": {"token": "B"}},
                {"account": "lost", "current-context": "lost", "user-name": "nobody"},
            ])
        );
        let many: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("c{i}"), "alice".to_string()))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(c, u)| (c.as_str(), u.as_str())).collect();
        let view = super::view(vec![config(Some("c0"), &[("alice", "A")], &many)]);
        assert_eq!(
            view["accounts"].as_array().unwrap().len(),
            crate::tools::ACCOUNT_LIMIT
        );
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
