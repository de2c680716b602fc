//! The module graph, checked from the source: every module uses only its own layer and the
//! layers below it (the list in `lib.rs`), and no modules form a cycle (a module and its own
//! submodules are one unit). Test code (`mod tests`) is left out. Rerun with
//! `cargo test --lib architecture`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first: a module may use its own layer and those before it.
const LAYERS: &[&str] = &[
    "support", "tools", "define", "store", "probe", "evaluate", "engine", "publish", "daemon",
    "shell", "cli", "cmd", "fuzzing",
];

/// Every module (`store::keyring::dbus`) with its source, test modules cut off.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["main"] || parts == ["lib"] || parts == ["architecture"] {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            out.insert(parts.join("::"), without_comments(&code));
        }
    }
    out
}

/// The text without `//` comments (a `//` inside a string literal is kept).
fn without_comments(code: &str) -> String {
    code.lines()
        .map(|line| {
            let mut quotes = 0;
            let bytes = line.as_bytes();
            for i in 0..bytes.len() {
                match bytes[i] {
                    b'"' if i == 0 || bytes[i - 1] != b'\\' => quotes += 1,
                    b'/' if quotes % 2 == 0 && bytes.get(i + 1) == Some(&b'/') => {
                        return &line[..i];
                    }
                    _ => {}
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a module refers to: `crate::a::b…`, `crate::{a, b::c}`, `super::x…`.
fn references(module: &str, code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .trim_end_matches(':')
            .to_string()
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = word(item.trim());
                if !item.is_empty() {
                    out.insert(item);
                }
            }
        } else {
            out.insert(word(after));
        }
        rest = after;
    }
    let parent: Vec<&str> = module.split("::").collect();
    let mut rest = code;
    while let Some(at) = rest.find("super::") {
        let before = &rest[..at];
        if before.ends_with(char::is_alphanumeric) || before.ends_with('_') {
            rest = &rest[at + 1..];
            continue;
        }
        let after = &rest[at + "super::".len()..];
        // `super::` from `a::b::c` (a file) is `a::b`.
        let base = &parent[..parent.len().saturating_sub(1)];
        let target = word(after);
        let mut path: Vec<&str> = base.to_vec();
        if !target.is_empty() && !target.starts_with('{') {
            path.extend(target.split("::"));
        }
        out.insert(path.join("::"));
        rest = after;
    }
    out
}

/// The longest known module that `path` starts with.
fn resolve(path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| known.contains_key(candidate))
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap()
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

/// Module → the modules it uses (not counting itself, its ancestors or descendants).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    modules
        .iter()
        .map(|(module, code)| {
            let targets = references(module, code)
                .iter()
                .filter_map(|path| resolve(path, &modules))
                .filter(|target| !related(module, target))
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

#[test]
fn every_module_uses_only_its_layer_and_the_layers_below() {
    let level = |module: &str| {
        LAYERS
            .iter()
            .position(|l| *l == top(module))
            .unwrap_or_else(|| panic!("{module} is in no layer: add it to LAYERS and lib.rs"))
    };
    let mut upward = Vec::new();
    for (module, targets) in graph() {
        for target in targets {
            if level(&target) > level(&module) {
                upward.push(format!("{module} -> {target}"));
            }
        }
    }
    assert!(upward.is_empty(), "upward edges:\n{}", upward.join("\n"));
}

/// The modules whose code (comments and tests left out) contains `text`.
fn modules_containing(text: &str) -> Vec<String> {
    modules()
        .into_iter()
        .filter(|(_, code)| code.contains(text))
        .map(|(module, _)| module)
        .collect()
}

/// tokio registers a raw descriptor number, soundly only while it stays open and unchanged
/// (issue #28 item 6): one module does it, for values that own their descriptor; nothing else
/// names `AsyncFd`.
#[test]
fn one_module_registers_descriptors_with_tokio() {
    assert_eq!(
        modules_containing("AsyncFd::"),
        ["support::readable"],
        "register a descriptor through support::readable::Readable"
    );
    let deprecated = modules_containing("allow(deprecated)");
    assert!(
        deprecated.is_empty(),
        "deprecated APIs in use: {deprecated:?}"
    );
}

/// A command's module serves its command (issue #28 item 5): what two commands share lives in a
/// lower layer (the read path of `status`, `prompt` and `export` is `publish::current`), or in
/// the command layer's root (`cmd`). The pairs below are what is still shared between two
/// commands' modules, to be moved down; the test fails when a new pair appears, and when a
/// listed one is gone (so the list shrinks with the code).
#[test]
fn commands_share_code_only_through_lower_layers() {
    const STILL_SHARED: &[&str] = &["cmd::assets -> cmd::presets", "cmd::login -> cmd::verify"];
    let mut shared = Vec::new();
    for (module, targets) in graph() {
        if !module.starts_with("cmd::") {
            continue;
        }
        for target in targets {
            if target.starts_with("cmd::") {
                shared.push(format!("{module} -> {target}"));
            }
        }
    }
    assert_eq!(
        shared, STILL_SHARED,
        "commands' modules that use another command's module"
    );
}

/// One module runs other programs (issue #28 item 3): with a deadline, in a process group of
/// its own, its output drained and its group killed at the deadline, or attached to the
/// terminal (`support::child`).
#[test]
fn one_module_runs_child_processes() {
    assert_eq!(
        modules_containing("Command::new("),
        ["support::child"],
        "run a child through support::child"
    );
}

/// One D-Bus client stack in the binary (issue #28 item 4): zbus, for the keyring, its signals
/// and desktop notifications alike; the keyring crate is only the tests' writer of items.
#[test]
fn the_binary_has_one_d_bus_client() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let start = manifest
        .find("[dependencies]\n")
        .expect("a [dependencies] table");
    let table = &manifest[start + "[dependencies]\n".len()..];
    let table = &table[..table.find("\n[").unwrap_or(table.len())];
    let d_bus: Vec<&str> = table
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
        .filter(|name| {
            ["bus", "keyring", "secret"]
                .iter()
                .any(|w| name.contains(w))
        })
        .collect();
    assert_eq!(
        d_bus,
        ["zbus"],
        "D-Bus clients among the binary's dependencies"
    );
}

/// support/ names no tool (issue #28 item 1): what a tool writes, and which of its accounts,
/// profiles or contexts is in use, is in `tools`. The words are every preset's name and its
/// parts, but words any helper may use (`keys`, `login`, `cache`, …); comments and tests are
/// not read.
#[test]
fn support_names_no_tool() {
    const GENERIC: &[&str] = &[
        "keys",
        "login",
        "cache",
        "session",
        "keyring",
        "agent",
        "cert",
        "cli",
        "adc",
        "libsecret",
    ];
    let mut words: BTreeSet<String> = BTreeSet::new();
    for name in crate::define::presets::names() {
        words.insert(name.to_string());
        words.extend(
            name.split(['-', '_'])
                .filter(|part| part.len() > 2)
                .map(str::to_string),
        );
    }
    words.retain(|w| !GENERIC.contains(&w.as_str()));
    assert!(words.contains("kube") && words.contains("aws"), "{words:?}");
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut named = Vec::new();
    for (module, code) in modules() {
        if top(&module) != "support" {
            continue;
        }
        let code = code.to_lowercase();
        for word in &words {
            let found = code.match_indices(word.as_str()).any(|(at, _)| {
                !code[..at].ends_with(is_word) && !code[at + word.len()..].starts_with(is_word)
            });
            if found {
                named.push(format!("{module}: {word}"));
            }
        }
    }
    assert!(
        named.is_empty(),
        "tools named in support/:\n{}",
        named.join("\n")
    );
}

#[test]
fn no_modules_form_a_cycle() {
    let graph = graph();
    // Depth-first search with colours; a grey target closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        colour.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match colour.get(next).copied().unwrap_or(0) {
                0 => visit(next, graph, colour, path, cycles),
                1 => {
                    let from = path.iter().position(|p| p == next).unwrap();
                    cycles.push(format!("{} -> {next}", path[from..].join(" -> ")));
                }
                _ => {}
            }
        }
        path.pop();
        colour.insert(node.to_string(), 2);
    }
    let mut colour = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in graph.keys() {
        if colour.get(node).copied().unwrap_or(0) == 0 {
            visit(node, &graph, &mut colour, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_references_of_every_form() {
    let known: BTreeMap<String, String> = ["store", "store::file", "define::config", "support"]
        .iter()
        .map(|m| (m.to_string(), String::new()))
        .collect();
    let code = "use crate::store::file::{A, B};\nuse crate::{define::config::X, support};\nlet x = super::file::y;\n// crate::nothing\n";
    let found: BTreeSet<String> = references("store::keyring", &without_comments(code))
        .iter()
        .filter_map(|p| resolve(p, &known))
        .collect();
    let want: BTreeSet<String> = ["store::file", "define::config", "support"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}
