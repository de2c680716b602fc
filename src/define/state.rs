//! The states a credential can be in (docs/contract.md, "States") and their groups.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Ok,
    Expiring,
    Insecure,
    Expired,
    LoggedOut,
    Missing,
    Unpersisted,
    Invalid,
    Rejected,
    Unavailable,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Usable,
    Undetermined,
    Broken,
}

impl State {
    /// Every state, in the contract's order.
    pub const ALL: [State; 11] = [
        State::Ok,
        State::Expiring,
        State::Insecure,
        State::Expired,
        State::LoggedOut,
        State::Missing,
        State::Unpersisted,
        State::Invalid,
        State::Rejected,
        State::Unavailable,
        State::Unknown,
    ];

    pub fn group(self) -> Group {
        match self {
            State::Ok | State::Expiring | State::Insecure => Group::Usable,
            State::Unavailable | State::Unknown => Group::Undetermined,
            _ => Group::Broken,
        }
    }

    pub fn is_usable(self) -> bool {
        self.group() == Group::Usable
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Expiring => "expiring",
            State::Insecure => "insecure",
            State::Expired => "expired",
            State::LoggedOut => "logged-out",
            State::Missing => "missing",
            State::Unpersisted => "unpersisted",
            State::Invalid => "invalid",
            State::Rejected => "rejected",
            State::Unavailable => "unavailable",
            State::Unknown => "unknown",
        }
    }
}

/// Exit code of `status`, `verify`, `login`: 0 all usable, 1 any broken, 3 some undetermined.
pub fn exit_code(states: impl IntoIterator<Item = State>) -> i32 {
    match states.into_iter().map(State::group).max() {
        Some(Group::Broken) => 1,
        Some(Group::Undetermined) => 3,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_worst_group() {
        assert_eq!(exit_code([]), 0);
        assert_eq!(exit_code([State::Ok, State::Insecure, State::Expiring]), 0);
        assert_eq!(exit_code([State::Ok, State::Unknown]), 3);
        assert_eq!(exit_code([State::Unavailable, State::Expired]), 1);
    }

    #[test]
    fn json_names_match_the_contract() {
        let names: Vec<String> = [State::LoggedOut, State::Unpersisted, State::Ok]
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(names, ["\"logged-out\"", "\"unpersisted\"", "\"ok\""]);
        assert_eq!(State::LoggedOut.as_str(), "logged-out");
    }
}
