//! The documentation a newcomer meets (issue #28 item 9): a README read in five minutes, the
//! rest in docs/, and no link among them that leads nowhere.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown page of the project's documentation.
fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = ["README.md", "BENCHMARKS.md", "CHANGELOG.md"]
        .iter()
        .map(|p| root().join(p))
        .collect();
    for entry in std::fs::read_dir(root().join("docs")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "md") {
            pages.push(entry.path());
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// A page without its code: fenced blocks and `inline code` (a starship format string is no
/// link).
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                out.push_str(part);
            }
        }
        out.push('\n');
    }
    out
}

/// Five minutes at a reading pace of ~200 words a minute: about 1,000 words, code included.
#[test]
fn the_readme_is_read_in_five_minutes() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let words = readme.split_whitespace().count();
    assert!(
        words <= 1_000,
        "README.md has {words} words: move the detail to docs/"
    );
    for section in ["## Install", "## Three commands", "## Where to go next"] {
        assert!(readme.contains(section), "README.md has no {section:?}");
    }
    // The two commands of a fresh machine: the main job and the whole test suite.
    assert!(readme.contains("cargo run --release -- status"));
    assert!(readme.contains("./scripts/test"));
}

#[test]
fn every_relative_link_in_the_docs_leads_somewhere() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = prose(&std::fs::read_to_string(&page).unwrap());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = &after[..end];
            rest = &after[end..];
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked: PathBuf = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap_or(Path::new(".")).join(file)
            };
            let shown = format!("{}: {target}", page.strip_prefix(root()).unwrap().display());
            let Ok(linked_text) = std::fs::read_to_string(&linked) else {
                if !linked.exists() {
                    broken.push(format!("{shown} (no such file)"));
                }
                continue;
            };
            if !fragment.is_empty() && !anchors(&linked_text).iter().any(|a| a == fragment) {
                broken.push(format!("{shown} (no such heading)"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_anchor_of_a_heading_is_githubs() {
    assert_eq!(
        anchor(" Keyring (Secret Service)"),
        "keyring-secret-service"
    );
    assert_eq!(
        anchor(" Prompt cost per shell (issue #4): met"),
        "prompt-cost-per-shell-issue-4-met"
    );
    assert_eq!(anchor(" `status --json`"), "status---json");
}
