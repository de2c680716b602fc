//! Benchmark: `credwatch status` on store files of the worst shapes, at each format's size limit
//! (1 MiB for the text formats, 4 MiB for kubeconfig), and at 8 MiB for every format.
//!
//! Run with `cargo bench --bench parsers`. For each format it writes a file of a hostile shape
//! (deep nesting, long lines, many keys, aliases) and times `credwatch status` on a definition
//! that reads it, beside the same format's **baseline** measured in the same run: a plain file of
//! that format (a flat list of entries) of the same size. Goal (issue #14): every worst shape is
//! answered in well under a second, and the answer names the problem. Issue #25 adds the shape
//! that was quadratic: a kubeconfig naming ~100,000 users, alone and as `KUBECONFIG=a:b`.
//! `cargo bench --bench parsers -- WORD` runs only the cases whose format or shape holds WORD.

#[allow(dead_code)]
#[path = "../tests/integration/harness.rs"]
mod harness;

use harness::TestHome;
use std::time::{Duration, Instant};

/// `open` repeated, then `close` repeated, to `SIZE` bytes in all (the middle filled with `fill`).
fn nested(size: usize, prefix: &str, open: &str, fill: &str, close: &str) -> String {
    let depth = (size - prefix.len() - fill.len()) / (open.len() + close.len());
    let mut text = String::with_capacity(size);
    text.push_str(prefix);
    text.push_str(&open.repeat(depth));
    text.push_str(fill);
    text.push_str(&close.repeat(depth));
    text
}

/// `line(i)` for i = 0.. until `SIZE` is reached.
fn repeated(size: usize, prefix: &str, line: impl Fn(usize) -> String, suffix: &str) -> String {
    let mut text = String::with_capacity(size + 256);
    text.push_str(prefix);
    let mut i = 0;
    loop {
        let next = line(i);
        if text.len() + next.len() + suffix.len() > size {
            break;
        }
        text.push_str(&next);
        i += 1;
    }
    text.push_str(suffix);
    text
}

/// Deeply indented block mappings: `a:` each line one space deeper.
fn yaml_block_depth(size: usize) -> String {
    let mut text = String::with_capacity(size);
    let mut depth = 0;
    while text.len() + depth + 4 < size {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
        depth += 1;
    }
    text
}

/// The "billion laughs" shape: each anchor aliases the previous one ten times.
fn yaml_aliases() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..40 {
        let previous = format!("*a{}", i - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    text
}

struct Case {
    format: &'static str,
    shape: &'static str,
    text: Vec<u8>,
    /// A second file read with it (`KUBECONFIG=a:b`), when the shape is a list.
    also: Option<Vec<u8>>,
    /// The field path its definition's `secret` names.
    secret: Option<&'static str>,
}

/// A kubeconfig naming `count`-ish users (as many as fit in `size`), with the names starting at
/// `from`: the shape that was quadratic in the number of users (issue #25).
fn kube_users(size: usize, from: usize) -> String {
    repeated(
        size,
        KUBE_HEAD,
        |i| format!("- name: user-{}\n  user: {{token: t}}\n", from + i),
        "",
    )
}

/// The kubeconfig every kubeconfig case starts with, so that the file is one (a valid login).
const KUBE_HEAD: &str = "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://k.example'}\nusers:\n- name: u\n  user: {token: t}\n";

fn cases(size: usize) -> Vec<Case> {
    let case = |format, shape, text: String| Case {
        format,
        shape,
        text: text.into_bytes(),
        also: None,
        secret: None,
    };
    let mut cases = vec![
        case(
            "json",
            "baseline: flat list of objects",
            repeated(size, "{\"t\":[", |i| format!("{{\"k{i}\":\"v\"}},"), "0]}"),
        ),
        case("json", "nested arrays", nested(size, "", "[", "0", "]")),
        case(
            "json",
            "nested objects",
            nested(size, "", "{\"a\":", "0", "}"),
        ),
        case(
            "json",
            "one long string",
            format!("{{\"t\":\"{}\"}}", "x".repeat(size - 16)),
        ),
        case(
            "yaml",
            "baseline: flat mapping",
            repeated(size, "", |i| format!("k{i}: v\n"), ""),
        ),
        case(
            "yaml",
            "nested flow sequences",
            nested(size, "t: ", "[", "0", "]"),
        ),
        case(
            "yaml",
            "nested flow mappings",
            nested(size, "t: ", "{a: ", "0", "}"),
        ),
        case("yaml", "nested block mappings", yaml_block_depth(size)),
        case(
            "yaml",
            "nested block sequences",
            nested(size, "t:\n", "- ", "0\n", ""),
        ),
        case("yaml", "aliases (billion laughs)", yaml_aliases()),
        case(
            "toml",
            "baseline: flat table",
            repeated(size, "", |i| format!("k{i} = \"v\"\n"), ""),
        ),
        case("toml", "nested arrays", nested(size, "t = ", "[", "0", "]")),
        case(
            "toml",
            "nested inline tables",
            nested(size, "t = ", "{a = ", "0", "}"),
        ),
        case(
            "toml",
            "long dotted key",
            format!("{} = 1\n", vec!["a"; size / 2 - 8].join(".")),
        ),
        case(
            "toml",
            "many tables",
            repeated(size, "", |i| format!("[t{i}]\nk = 1\n"), ""),
        ),
        case(
            "ini",
            "baseline: flat section",
            repeated(size, "[s]\n", |i| format!("k{i} = v\n"), ""),
        ),
        case(
            "ini",
            "one long line",
            format!("[s]\nk = {}\n", "x".repeat(size - 16)),
        ),
        case(
            "ini",
            "many sections",
            repeated(size, "", |i| format!("[s{i}]\n"), ""),
        ),
        case(
            "netrc",
            "baseline: many machines",
            repeated(
                size,
                "",
                |i| format!("machine m{i} login u password p\n"),
                "",
            ),
        ),
        case(
            "netrc",
            "one long token",
            format!("machine {}\n", "x".repeat(size - 16)),
        ),
        case(
            "netrc",
            "many macdefs",
            repeated(size, "", |i| format!("macdef m{i}\nx\n\n"), ""),
        ),
    ];
    let kube = 4 << 20;
    cases.extend([
        case(
            "kubeconfig",
            "baseline: a fleet (contexts with certificates)",
            repeated(kube, KUBE_HEAD, |i| format!("- name: c{i}\n  cluster: {{server: 'https://k{i}.example', certificate-authority-data: {}}}\n", "QUJD".repeat(400)), ""),
        ),
        case(
            "kubeconfig",
            "many keys",
            repeated(kube, KUBE_HEAD, |i| format!("k{i}: v\n"), ""),
        ),
        case(
            "kubeconfig",
            "nested flow sequences",
            nested(kube, KUBE_HEAD, "[", "0", "]"),
        ),
        case(
            "kubeconfig",
            "nested block sequences",
            nested(kube, &format!("{KUBE_HEAD}x:\n"), "- ", "0\n", ""),
        ),
        case("kubeconfig", "many users (#25)", kube_users(kube, 0)),
        Case {
            also: Some(kube_users(kube, 1_000_000).into_bytes()),
            ..case(
                "kubeconfig",
                "KUBECONFIG=a:b, many users in each (#25)",
                kube_users(kube, 0),
            )
        },
    ]);
    cases
}

/// `status --json NAME`, its answer to a file (an answer can exceed a pipe's 64 KiB: a 1 MiB
/// `.npmrc` of 100,000 `${VARIABLES}` lists each in `depends_on_env`); fails past 20 s.
fn status_json(home: &TestHome, name: &str) -> serde_json::Value {
    let out = home.path("status.out");
    let mut child = home
        .command(&["status", "--json", name])
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name} hung for 20 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    doc["credentials"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no credential {name}"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench --bench parsers -- WORD`: only the cases whose format or shape holds WORD.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let home = TestHome::new();
    let mut config = String::from("presets = \"none\"\n");
    let mut cases = cases(1 << 20);
    // The same shapes at 8 MiB: refused unread, but for kubeconfig.
    cases.extend(
        self::cases(8 << 20)
            .into_iter()
            .filter(|c| c.format != "kubeconfig" && c.shape.starts_with("baseline")),
    );
    // Every format's worst shape at its size limit, from the code (`fuzzing::worst_shapes`),
    // but for gcloud's SQLite (made by sqlite3: tests/integration/limits.rs) and the ssh-agent
    // (a socket, not a file).
    for worst in credwatch::fuzzing::worst_shapes() {
        let format: &'static str =
            Box::leak(worst.format.to_string().to_lowercase().into_boxed_str());
        if worst.sql.is_some() || format == "ssh-agent" {
            continue;
        }
        let mut files = worst.files.into_iter();
        cases.push(Case {
            format,
            shape: Box::leak(format!("worst: {} (#25)", worst.shape).into_boxed_str()),
            text: files.next().unwrap_or_default(),
            also: files.next(),
            secret: Some(worst.secret),
        });
    }
    cases.retain(|c| c.format.contains(&filter) || c.shape.contains(&filter));
    for (i, case) in cases.iter().enumerate() {
        home.write(&format!("worst/{i}.{}", case.format), &case.text);
        let mut file = format!("~/worst/{i}.{}", case.format);
        if let Some(also) = &case.also {
            home.write(&format!("worst/{i}b.{}", case.format), also);
            file.push_str(&format!(":~/worst/{i}b.{}", case.format));
        }
        let path = match case.format {
            _ if case.secret.is_some() => case.secret.unwrap(),
            "netrc" => "/m0/password",
            "kubeconfig" => "/user/token",
            _ => "/t",
        };
        // An empty path: the whole document is the secret (a text file), no `secret` line.
        let secret = if path.is_empty() {
            String::new()
        } else {
            format!("secret = \"{path}\"\n")
        };
        config.push_str(&format!(
            "[[credential]]\nname = \"c{i}\"\nfile = \"{file}\"\nformat = \"{}\"\n{secret}",
            case.format
        ));
    }
    home.write_config(&config);
    println!("| format | shape | size | `status` median of 5, ms | answer |");
    println!("|---|---|---:|---:|---|");
    for (i, case) in cases.iter().enumerate() {
        let name = format!("c{i}");
        let mut samples: Vec<Duration> = Vec::new();
        let mut answer = String::new();
        for _ in 0..5 {
            let started = Instant::now();
            let credential = status_json(&home, &name);
            samples.push(started.elapsed());
            answer = format!(
                "{}: {}",
                credential["state"].as_str().unwrap_or("?"),
                credential["reason"].as_str().unwrap_or("?")
            );
            // A shape that takes seconds (a regression) is timed once: the table says so.
            if samples[0] > Duration::from_secs(3) {
                break;
            }
        }
        samples.sort();
        let mut answer: String = answer.chars().take(90).collect();
        if samples.len() == 1 {
            answer.insert_str(0, "(1 run: over 3 s) ");
        }
        println!(
            "| {} | {} | {:.1} MiB | {:.1} | {} |",
            case.format,
            case.shape,
            (case.text.len() + case.also.as_ref().map_or(0, Vec::len)) as f64 / f64::from(1 << 20),
            samples[samples.len() / 2].as_secs_f64() * 1000.0,
            answer.replace('|', "\\|")
        );
    }
}
