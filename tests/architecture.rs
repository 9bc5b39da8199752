//! The shape of the house, checked: the core's modules form layers (no module reaches back up
//! to one that depends on it), and the core knows nothing of terminals. See ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The binary's own files: the terminal app and the command line.
const FRONT_ENDS: &[&str] = &["bin"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The core's files by top-level module, tests left out (a test may reach anywhere).
fn core_sources() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut by_module: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        if FRONT_ENDS.contains(&first.as_ref()) || first == "lib.rs" {
            continue;
        }
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let code = match text.find("#[cfg(test)]\nmod tests {") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        by_module.entry(module).or_default().push_str(&code);
    }
    by_module
}

/// Which core modules each module names (`crate::module::...`).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let sources = core_sources();
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(m, code)| {
            let mut deps = BTreeSet::new();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name != *m && modules.contains(&name) {
                    deps.insert(name);
                }
            }
            (m.clone(), deps)
        })
        .collect()
}

#[test]
fn the_core_has_no_import_circle() {
    let deps = dependencies();
    assert!(deps.len() > 10, "found the core's modules: {deps:?}");
    // Depth-first, keeping the path: a module met again on its own path closes a circle.
    fn visit(
        m: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in deps.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, deps, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        if let Some(circle) = visit(m, &deps, &mut Vec::new(), &mut done) {
            panic!("an import circle in the core: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn the_storage_engine_depends_on_no_rule() {
    let deps = dependencies();
    let store: Vec<&String> = deps["store"].iter().collect();
    assert!(
        store
            .iter()
            // `failpoint` is the tests' kill switch, no rule.
            .all(|d| ["clock", "codes", "error", "failpoint", "text"].contains(&d.as_str())),
        "store/ reaches up to {store:?}"
    );
}

#[test]
fn the_core_knows_nothing_of_terminals() {
    for (m, code) in core_sources() {
        for word in ["ratatui", "crossterm"] {
            assert!(!code.contains(word), "src/{m} names {word}");
        }
    }
}
