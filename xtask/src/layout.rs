//! `cargo xtask layout`: the structure the code must keep, checked.
//!
//! 1. `job_runner` depends on no crate of the domain (`cargo tree`).
//! 2. No Rust file in `server/`, `scheduler/`, `xtask/` or `tests/` names the
//!    job table: they call the runner's typed queries instead.
//! 3. The top-level modules of `jobs/src/` import each other without a
//!    cycle, read from their `crate::` paths.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use crate::cargo;

#[derive(Args, Debug, Default)]
pub struct LayoutArgs {
    /// Also print which top-level modules of jobs/src each one imports.
    #[arg(long)]
    pub graph: bool,
}

/// The workspace's crates that the runner must not depend on.
const DOMAIN_CRATES: [&str; 6] = ["jobs", "server", "scheduler", "sandbox", "integration-tests", "xtask"];

/// Folders whose code must go through the runner for the job table.
const OUTSIDE_THE_RUNNER: [&str; 5] = ["server", "scheduler", "xtask", "tests", "jobs/src"];

pub fn run(args: LayoutArgs) -> Result<()> {
    let root = workspace_root();
    let mut failures = Vec::new();
    failures.extend(runner_dependencies()?);
    failures.extend(job_table_outside_the_runner(&root)?);
    let graph = module_graph(&root.join("jobs/src"))?;
    if args.graph {
        for (module, uses) in &graph {
            println!("{module} -> {}", uses.iter().cloned().collect::<Vec<_>>().join(" "));
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        failures.push(format!("jobs/src: top-level modules import each other in a cycle: {}", cycle.join(" -> ")));
    }
    if failures.is_empty() {
        println!(
            "layout: ok (job_runner knows no domain crate; the job table is the runner's; {} top-level modules of jobs/src, no cycle)",
            graph.len()
        );
        return Ok(());
    }
    for f in &failures {
        eprintln!("layout: {f}");
    }
    bail!("{} layout rule(s) broken; see above, and `cargo xtask layout --help` for the rules", failures.len())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").to_path_buf()
}

fn runner_dependencies() -> Result<Vec<String>> {
    let out = cargo()
        .args(["tree", "-p", "job_runner", "--edges", "normal,build", "--prefix", "none", "--format", "{p}"])
        .output()
        .context("cannot run `cargo tree -p job_runner`")?;
    if !out.status.success() {
        bail!("`cargo tree -p job_runner` failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    Ok(tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| DOMAIN_CRATES.contains(name))
        .map(|name| format!("job_runner depends on the domain crate `{name}`; move what it needs into the runner"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

fn job_table_outside_the_runner(root: &Path) -> Result<Vec<String>> {
    // Spelled in two parts so this file does not name the table itself.
    let table = ["apalis", "jobs"].join(".");
    let mut found = Vec::new();
    for dir in OUTSIDE_THE_RUNNER {
        for file in rust_files(&root.join(dir))? {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            for (n, line) in text.lines().enumerate() {
                if line.contains(&table) {
                    let shown = file.strip_prefix(root).unwrap_or(&file).display();
                    found.push(format!("{shown}:{}: names {table}; use job_runner::queries instead", n + 1));
                }
            }
        }
    }
    Ok(found)
}

/// Every `.rs` file under `dir`, `target/` excluded, in a stable order.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Top-level module → the top-level modules its files name through `crate::`.
fn module_graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).context("cannot read jobs/src/lib.rs")?;
    let modules = top_level_modules(&lib);
    let reexports = root_reexports(&lib, &modules);
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut files = rust_files(&src.join(module)).unwrap_or_default();
        files.push(src.join(format!("{module}.rs")));
        let mut uses = BTreeSet::new();
        for file in files.iter().filter(|f| f.exists()) {
            let mut text = std::fs::read_to_string(file)?;
            // In `x.rs` and `x/mod.rs`, `super::` is the crate root.
            let at_top = file.parent() == Some(src) || file.ends_with(format!("{module}/mod.rs"));
            if at_top {
                text = text.replace("super::", "crate::");
            }
            for name in crate_paths(&text) {
                let target = if modules.contains(&name) { Some(name) } else { reexports.get(&name).cloned() };
                uses.extend(target.filter(|t| t != module));
            }
        }
        graph.insert(module.clone(), uses);
    }
    Ok(graph)
}

/// The `mod x;` and `pub mod x;` lines of `lib.rs`.
fn top_level_modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .map(|l| l.trim().trim_start_matches("pub(crate) ").trim_start_matches("pub "))
        .filter_map(|l| l.strip_prefix("mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// Names re-exported at the crate root (`pub use context::{JobContext, ...}`), by module.
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.trim().strip_prefix("pub use ")) {
        let Some((module, rest)) = line.split_once("::") else { continue };
        if !modules.contains(module) {
            continue;
        }
        let rest = rest.trim_end_matches(';').trim_start_matches('{').trim_end_matches('}');
        for item in rest.split(',') {
            let name = item.trim().rsplit("::").next().unwrap_or_default().trim();
            if !name.is_empty() {
                names.insert(name.to_string(), module.to_string());
            }
        }
    }
    names
}

/// The first segment after every `crate::` in `text`, the items of a
/// `crate::{...}` group included. Comments are skipped: a doc link is not
/// an import.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            names.extend(top_items(&group[..end]));
        } else {
            names.push(ident(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// The leading identifier of each comma-separated item at brace depth 0.
fn top_items(group: &str) -> Vec<String> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, true);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                items.push(ident(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    items
}

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// A cycle in `graph`, as the modules along it with the first repeated at
/// the end; `None` when it has none.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges.iter().map(|(n, to)| (n.to_string(), to.iter().map(|t| t.to_string()).collect())).collect()
    }

    #[test]
    fn a_cycle_is_found_and_named_along_its_path() {
        let g = graph(&[("catalog", &["domain"]), ("domain", &["hooks"]), ("hooks", &["catalog"]), ("x", &[])]);
        assert_eq!(find_cycle(&g).unwrap(), ["catalog", "domain", "hooks", "catalog"]);
        let acyclic = graph(&[("catalog", &["domain", "drchrono"]), ("domain", &[]), ("drchrono", &["domain"])]);
        assert_eq!(find_cycle(&acyclic), None);
    }

    #[test]
    fn crate_paths_read_groups_nested_groups_and_plain_paths() {
        let text = "use crate::{\n    JobContext,\n    domain::{RecordKind, sync_state::{self, RunTotals}},\n    drchrono::Client,\n};\n\
                    /// See [`crate::registry`].\n\
                    let x = crate::metrics::s3_put(\"ok\");";
        assert_eq!(crate_paths(text), ["JobContext", "domain", "drchrono", "metrics"]);
    }

    #[test]
    fn root_reexports_map_names_to_their_modules() {
        let lib = "pub mod context;\npub mod domain;\npub use context::{JobContext, JobSettings};\n";
        let modules = top_level_modules(lib);
        assert_eq!(modules.len(), 2);
        assert_eq!(root_reexports(lib, &modules).get("JobSettings").map(String::as_str), Some("context"));
    }
}
