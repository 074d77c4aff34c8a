//! The workspace's shape, from `cargo metadata`: each crate depends only on the layers below it and never on the
//! libraries of another layer, every dependency a crate declares is used in its code, only the binary reads the
//! environment, and no crate embeds a file from outside its folder.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// A crate's layer: the workspace crates its code may depend on, those its tests may also use (test fixtures),
/// and the libraries it must not use. The domain knows no database, web or GraphQL library; GraphQL knows no
/// database or web server (its tests run on persistence's fixtures); persistence knows no GraphQL or web library.
/// The developer tools (`generate`, `bench`) sit beside the server, on the same layers but without its web
/// stack. The binary and the end-to-end tests sit on top of everything.
struct Layer {
    name: &'static str,
    uses: &'static [&'static str],
    tests_use: &'static [&'static str],
    banned: &'static [&'static str],
}

const LAYERS: &[Layer] = &[
    Layer {
        name: "boletin-domain",
        uses: &[],
        tests_use: &[],
        banned: &["sea-orm", "sqlx", "async-graphql", "axum", "hyper", "tokio", "tower"],
    },
    Layer {
        name: "boletin-migrations",
        uses: &[],
        tests_use: &[],
        banned: &["async-graphql", "axum", "hyper"],
    },
    Layer {
        name: "boletin-persistence",
        uses: &["boletin-domain", "boletin-migrations"],
        tests_use: &["boletin-persistence"],
        banned: &["async-graphql", "axum", "hyper", "tower"],
    },
    Layer {
        name: "boletin-graphql",
        uses: &["boletin-domain"],
        tests_use: &["boletin-persistence"],
        banned: &["sea-orm", "sqlx", "axum", "hyper", "tower"],
    },
    Layer {
        name: "boletin-devtools",
        uses: &["boletin-domain", "boletin-persistence", "boletin-graphql"],
        tests_use: &[],
        banned: &["sea-orm", "sqlx", "axum", "hyper", "tower"],
    },
    Layer {
        name: "boletin",
        uses: &[
            "boletin-domain",
            "boletin-persistence",
            "boletin-graphql",
            "boletin-devtools",
        ],
        tests_use: &[],
        banned: &["sqlx"],
    },
    Layer {
        name: "boletin-e2e",
        uses: &["boletin", "boletin-domain", "boletin-persistence"],
        tests_use: &[],
        banned: &[],
    },
];

/// `cargo metadata`, run once for all the tests of this file.
static METADATA: LazyLock<Value> = LazyLock::new(metadata);

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cargo metadata: {e}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("cargo metadata's JSON: {e}"))
}

/// A package's name, its folder and its dependencies as `(name, kind)`: kind `normal`, `dev` or `build`.
type Package = (String, PathBuf, Vec<(String, String)>);

fn packages(metadata: &Value) -> Vec<Package> {
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|package| {
            let dependencies = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let name = d["rename"].as_str().or(d["name"].as_str()).unwrap_or_default();
                    (name.to_owned(), d["kind"].as_str().unwrap_or("normal").to_owned())
                })
                .collect();
            let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
            let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            (
                package["name"].as_str().unwrap_or_default().to_owned(),
                dir,
                dependencies,
            )
        })
        .collect()
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let packages = packages(&METADATA);
    let known: Vec<&str> = LAYERS.iter().map(|layer| layer.name).collect();
    let mut broken = Vec::new();
    for (name, _, dependencies) in &packages {
        let Some(layer) = LAYERS.iter().find(|layer| layer.name == name) else {
            broken.push(format!("{name} is not in LAYERS: say which layer it is"));
            continue;
        };
        for (dependency, kind) in dependencies {
            let dependency = dependency.as_str();
            let allowed = layer.uses.contains(&dependency) || (kind == "dev" && layer.tests_use.contains(&dependency));
            if known.contains(&dependency) && !allowed {
                broken.push(format!("{name} depends on {dependency} ({kind})"));
            }
            if layer.banned.contains(&dependency) && kind != "dev" {
                broken.push(format!("{name} uses {dependency}, a library of another layer"));
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

/// Every `.rs` file under `dir`, skipping build output and other packages' folders.
fn sources(dir: &Path, others: &[PathBuf], found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            let skip = others.contains(&path) || path.file_name().is_some_and(|n| n == "target" || n == "node_modules");
            if !skip {
                sources(&path, others, found);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Whether `text` names the crate `library` as a path (`library::…`), in a `use`, or as `extern crate`.
fn names(text: &str, library: &str) -> bool {
    text.match_indices(library).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = &text[at + library.len()..];
        let starts_word = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts_word && (after.starts_with("::") || after.starts_with(';') || after.starts_with(" as "))
    })
}

#[test]
fn every_declared_dependency_is_used() {
    let packages = packages(&METADATA);
    let dirs: Vec<PathBuf> = packages.iter().map(|(_, dir, _)| dir.clone()).collect();
    let mut unused = Vec::new();
    for (name, dir, dependencies) in &packages {
        let others: Vec<PathBuf> = dirs.iter().filter(|d| *d != dir).cloned().collect();
        let mut files = Vec::new();
        sources(dir, &others, &mut files);
        let text: String = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect::<Vec<_>>()
            .join("\n");
        let mut by_kind: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (dependency, kind) in dependencies {
            by_kind.entry(kind.as_str()).or_default().push(dependency.as_str());
        }
        for (kind, list) in by_kind {
            for dependency in list {
                if !names(&text, &dependency.replace('-', "_")) {
                    unused.push(format!("{name}: {dependency} ({kind})"));
                }
            }
        }
    }
    assert!(
        unused.is_empty(),
        "declared but never named in the crate's code (remove it from Cargo.toml):\n{}",
        unused.join("\n")
    );
}

#[test]
fn a_dependency_is_named_only_as_a_path() {
    assert!(names("use serde::Deserialize;", "serde"));
    assert!(names("#[async_trait::async_trait]", "async_trait"));
    assert!(!names("use serde_json::Value;", "serde"));
    assert!(!names("let my_serde = 1;", "serde"));
    assert!(names("extern crate getrandom;", "getrandom"));
}

/// The library sources of every package (`src/`, not its tests, benches or build script), by package name.
fn library_sources() -> Vec<(String, PathBuf, Vec<PathBuf>)> {
    packages(&METADATA)
        .into_iter()
        .map(|(name, dir, _)| {
            let mut files = Vec::new();
            sources(&dir.join("src"), &[], &mut files);
            (name, dir, files)
        })
        .collect()
}

/// Library crates take their settings as arguments (ARCHITECTURE.md's invariants): only the binary reads the
/// environment, and the test-support fixtures, which read `TEST_DATABASE_URL` and `CI` as a test harness does.
#[test]
fn only_the_binary_reads_the_environment() {
    let allowed = ["crates/server/src/main.rs", "crates/persistence/src/testing.rs"];
    let mut readers = Vec::new();
    for (_, _, files) in library_sources() {
        for file in files {
            let path = file.to_string_lossy().replace('\\', "/");
            if allowed.iter().any(|a| path.ends_with(a)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if ["env::var", "env::vars", "env::var_os"]
                .iter()
                .any(|call| text.contains(call))
            {
                readers.push(path);
            }
        }
    }
    assert!(
        readers.is_empty(),
        "library code reads the environment:\n{}",
        readers.join("\n")
    );
}

/// A crate embeds only files inside its own folder, so it builds the same wherever its folder is copied
/// (`include_str!`/`include_bytes!` paths never climb out of it).
#[test]
fn a_crate_embeds_only_its_own_files() {
    let mut outside = Vec::new();
    for (name, dir, files) in library_sources() {
        let dir = dir.canonicalize().unwrap_or(dir);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for macro_name in ["include_str!(\"", "include_bytes!(\""] {
                for (at, _) in text.match_indices(macro_name) {
                    let rest = &text[at + macro_name.len()..];
                    let relative = rest.split('"').next().unwrap_or_default();
                    if relative.starts_with("concat!") || relative.contains('{') {
                        continue;
                    }
                    let target = file.parent().map(|p| p.join(relative)).unwrap_or_default();
                    let inside = target.canonicalize().is_ok_and(|t| t.starts_with(&dir));
                    if !inside {
                        outside.push(format!("{name}: {} embeds {relative}", file.display()));
                    }
                }
            }
        }
    }
    assert!(
        outside.is_empty(),
        "embedded files outside their crate:\n{}",
        outside.join("\n")
    );
}
