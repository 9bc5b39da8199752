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

/// Every test file is a module of the one test binary (`tests/it/main.rs`), and no file
/// beside it makes a binary of its own (each links the whole crate again).
#[test]
fn every_test_file_is_in_the_one_binary() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(tests.join("it/main.rs")).unwrap();
    let declared: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(tests.join("it")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let module = if p.is_dir() {
            name.clone()
        } else if let Some(m) = name.strip_suffix(".rs") {
            m.to_string()
        } else {
            continue;
        };
        if module != "main" && !declared.contains(&module) {
            missing.push(name);
        }
    }
    assert!(
        declared.len() > 15,
        "read the modules of main.rs: {declared:?}"
    );
    assert!(missing.is_empty(), "not in tests/it/main.rs: {missing:?}");
    let apart: Vec<String> = std::fs::read_dir(&tests)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "rs")
                || p.join("main.rs").exists() && !p.ends_with("it")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(apart.is_empty(), "test binaries of their own: {apart:?}");
}

/// A crate's files (the library's, or the binary's) with the module path each one is.
fn crate_files(root: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(root).unwrap();
        let mut path: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let last = path.pop().unwrap();
        if rel.starts_with("bin") && root.ends_with("src") {
            continue; // the binary is a crate of its own
        }
        match last.as_str() {
            "mod.rs" | "lib.rs" | "main.rs" => {}
            "tests.rs" => continue,
            _ => path.push(last.trim_end_matches(".rs").to_string()),
        }
        if path.iter().any(|p| p == "tests") {
            continue;
        }
        out.insert(path, f);
    }
    out
}

/// The code of a file without its `#[cfg(test)] mod tests { ... }` and without comments.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a file names: every `crate::…`, `super::…` and `self::…`, every path through a
/// module the file declares, and each leaf of a `use` tree (`use super::{a, b::C}`).
fn named_paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        match tree.find('{') {
            None => out.push(format!("{prefix}{tree}")),
            Some(open) => {
                let head = &tree[..open];
                let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
                let mut depth = 0;
                let mut start = 0;
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(&format!("{prefix}{head}"), &inner[start..i], out);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                expand(&format!("{prefix}{head}"), &inner[start..], out);
            }
        }
    }
    let mut texts = Vec::new();
    for (i, _) in code.match_indices("use ") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = code[i..].find(';') {
            let tree: String = code[i + 4..i + end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            expand("", &tree, &mut texts);
        }
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut start = None;
    for (i, c) in code.char_indices().chain([(code.len(), ' ')]) {
        match (word(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let w = &code[s..i];
                let first = w.split("::").next().unwrap_or("");
                let at_start = s == 0 || !code[..s].ends_with("::");
                if at_start
                    && w.contains("::")
                    && (["crate", "super", "self"].contains(&first) || children.contains(first))
                {
                    texts.push(w.to_string());
                }
                start = None;
            }
            _ => {}
        }
    }
    texts
        .into_iter()
        .map(|t| {
            t.split(" as ")
                .next()
                .unwrap()
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Which files of a crate each file imports from: a path is resolved to the deepest module
/// file it passes through. A module's own submodules (which it declares, and may re-export)
/// are left out: that is ownership, not a dependency.
fn file_imports(root: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = crate_files(root);
    let mut out = BTreeMap::new();
    for (module, file) in &files {
        let is_dir_module = matches!(
            file.file_name().and_then(|n| n.to_str()),
            Some("mod.rs" | "lib.rs" | "main.rs")
        );
        // `super::` from a file `a/b.rs` (module a::b) is `a`; from `a/b/mod.rs` too.
        let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
        let here = module.clone();
        let children: BTreeSet<String> = files
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m.last().unwrap().clone())
            .collect();
        let code = code_of(file);
        let mut deps = BTreeSet::new();
        for path in named_paths(&code, &children) {
            let mut abs: Vec<String> = Vec::new();
            let mut rest = path.as_slice();
            match rest.first().map(String::as_str) {
                Some("crate") => rest = &rest[1..],
                Some("self") => {
                    abs = here.clone();
                    rest = &rest[1..];
                }
                Some("super") => {
                    abs = if is_dir_module || !module.is_empty() {
                        parent.clone()
                    } else {
                        Vec::new()
                    };
                    rest = &rest[1..];
                    while rest.first().is_some_and(|s| s == "super") {
                        abs.pop();
                        rest = &rest[1..];
                    }
                }
                _ => abs = here.clone(),
            }
            abs.extend(rest.iter().cloned());
            let target = (0..=abs.len())
                .rev()
                .find_map(|n| files.get(&abs[..n]).map(|f| (n, f)));
            if let Some((n, target)) = target {
                let own_child = n > module.len() && abs[..module.len()] == module[..];
                if target != file && !own_child {
                    deps.insert(target.clone());
                }
            }
        }
        out.insert(file.clone(), deps);
    }
    out
}

/// The first import circle among files, if any.
fn circle_in(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        f: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        path: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(i) = path.iter().position(|p| p == f) {
            let mut circle = path[i..].to_vec();
            circle.push(f.clone());
            return Some(circle);
        }
        if !done.insert(f.clone()) {
            return None;
        }
        path.push(f.clone());
        for d in graph.get(f).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|f| visit(f, graph, &mut Vec::new(), &mut done))
}

fn shown(circle: &[PathBuf]) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    circle
        .iter()
        .map(|p| p.strip_prefix(src).unwrap_or(p).display().to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// No two files import each other, round any loop, in the library or in the binary.
#[test]
fn no_file_imports_round_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for root in [src.clone(), src.join("bin/boxoffice")] {
        let graph = file_imports(&root);
        let arrows: usize = graph.values().map(BTreeSet::len).sum();
        assert!(
            graph.len() > 20 && arrows > 40,
            "read {} files and {arrows} imports under {}",
            graph.len(),
            root.display()
        );
        if let Some(circle) = circle_in(&graph) {
            panic!("an import circle: {}", shown(&circle));
        }
    }
}

/// The terminal app's layers: a screen does not reach up to the loop that opens it (it asks
/// with an `Outcome`), and the terminal app does not reach into the command line.
#[test]
fn screens_do_not_import_the_loop_and_the_app_not_the_command_line() {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin/boxoffice");
    let graph = file_imports(&bin);
    let tui = bin.join("tui");
    let looping = tui.join("app.rs");
    for (file, deps) in &graph {
        if file.starts_with(tui.join("screens")) {
            assert!(
                !deps.contains(&looping),
                "{} imports the loop",
                file.display()
            );
        }
        if file.starts_with(&tui) {
            let cli: Vec<_> = deps
                .iter()
                .filter(|d| d.starts_with(bin.join("cli")))
                .collect();
            assert!(cli.is_empty(), "{} imports {cli:?}", file.display());
        }
    }
    assert!(
        graph[&tui.join("app.rs")].contains(&tui.join("screens/mod.rs")),
        "the loop's imports were read"
    );
}

/// A file over 800 lines says at its top why it is one room and not two.
#[test]
fn a_file_over_800_lines_says_why_at_its_top() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 50);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines = text.lines().count();
        let head: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
        assert!(
            lines <= 800 || head.contains("800 lines"),
            "{} has {lines} lines and its top does not say why (a comment naming `800 lines`)",
            f.display()
        );
    }
}
