//! The environment a credential is judged in: this process's own, or a shell's context that the
//! daemon was handed (`daemon::contexts`): the values of the variables that select a login
//! (`KUBECONFIG`, `AWS_PROFILE`, …) and whether those that shadow one (`GH_TOKEN`, …) are set.
//!
//! Guarantees: the store and format layers read the environment only through [`var_os`]; inside
//! [`within`], a variable the context names has the context's value (unset included) and any
//! other the process's own; the scope is this thread's and ends with the closure, also when it
//! unwinds. A context never holds a secret: a shadowing variable is carried as `1` when set,
//! and as unset otherwise.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;

/// The values a context gives to variables; `None`: unset there.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Environment {
    values: BTreeMap<String, Option<OsString>>,
}

impl Environment {
    pub fn new(values: BTreeMap<String, Option<OsString>>) -> Self {
        Environment { values }
    }

    /// The context's value of `name`: `None` when the context does not name it.
    pub fn get(&self, name: &str) -> Option<Option<&OsString>> {
        self.values.get(name).map(Option::as_ref)
    }

    /// The variables it names, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&OsString>)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_ref()))
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Environment>> = const { RefCell::new(None) };
}

/// A variable of the environment in force: the context's inside [`within`], else the process's.
pub fn var_os(name: &str) -> Option<OsString> {
    CURRENT
        .with(|current| {
            current
                .borrow()
                .as_ref()
                .and_then(|env| env.get(name).map(|v| v.cloned()))
        })
        .unwrap_or_else(|| std::env::var_os(name))
}

/// [`var_os`] as text (lossy), empty counting as unset.
pub fn var_text(name: &str) -> Option<String> {
    var_os(name)
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
}

/// Whether `name` is a valid environment variable name for a shell (`[A-Za-z_][A-Za-z0-9_]*`):
/// only such names are rendered into a hook or read from a context.
pub fn is_name(name: &[u8]) -> bool {
    name.first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// The environment in force with `name` set to `value`: a context's other values are kept (a
/// login plugin's `AWS_PROFILE` inside a shell's context).
pub fn with_var(name: &str, value: &str) -> Environment {
    let mut values = CURRENT
        .with(|current| current.borrow().as_ref().map(|env| env.values.clone()))
        .unwrap_or_default();
    values.insert(name.to_string(), Some(OsString::from(value)));
    Environment { values }
}

/// Whether a context is in force on this thread (the daemon judging for a shell).
#[cfg(test)]
fn in_context() -> bool {
    CURRENT.with(|current| current.borrow().is_some())
}

/// Runs `f` with `env` in force on this thread.
pub fn within<R>(env: &Environment, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Environment>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|current| *current.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|current| current.replace(Some(env.clone())));
    let _restore = Restore(previous);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_overrides_what_it_names_and_only_inside() {
        let name = "CREDWATCH_ENVIRON_TEST_VAR";
        let env = Environment::new(
            [
                (name.to_string(), Some(OsString::from("/ctx"))),
                ("PATH".to_string(), None),
            ]
            .into(),
        );
        assert_eq!(var_os(name), None);
        within(&env, || {
            assert_eq!(var_os(name), Some(OsString::from("/ctx")));
            assert_eq!(var_os("PATH"), None, "unset in the context");
            assert_eq!(var_os("HOME"), std::env::var_os("HOME"), "not named");
            assert!(in_context());
        });
        assert_eq!(var_os(name), None);
        assert!(!in_context());
        let unwound = std::panic::catch_unwind(|| within(&env, || panic!("inside")));
        assert!(unwound.is_err());
        assert!(!in_context(), "the scope ends when the closure unwinds");
    }
}
