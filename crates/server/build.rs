//! Builds the web pages (`web/`: the GraphiQL playground and the indicators dashboard) with Node and npm when
//! they are on the machine, and embeds the result in the binary, so that `cargo run --release` on a fresh clone
//! serves both pages and the server reads no file and fetches nothing at run time.
//!
//! Without Node and npm, or with `BOLETIN_WEB=off`, boletin still builds; the two pages then answer with a
//! short HTML page saying how to build them. `npm ci` runs only when `web/package-lock.json` is newer than the
//! installed packages.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let (Some(manifest_dir), Some(out)) = (env::var_os("CARGO_MANIFEST_DIR"), env::var_os("OUT_DIR")) else {
        panic!("cargo sets CARGO_MANIFEST_DIR and OUT_DIR for build scripts");
    };
    let web = PathBuf::from(manifest_dir).join("../../web");
    let out = PathBuf::from(out);
    for watched in ["src", "build.mjs", "package.json", "package-lock.json"] {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=BOLETIN_WEB");

    let dist = out.join("web");
    let built = if env::var("BOLETIN_WEB").is_ok_and(|v| v == "off") {
        Err("it was built with BOLETIN_WEB=off".to_owned())
    } else {
        build(&web, &dist)
    };
    let code = match built.and_then(|()| embed(&dist)) {
        Ok(code) => code,
        Err(reason) => {
            if !reason.contains("BOLETIN_WEB=off") {
                println!("cargo:warning=the web pages were not built: {reason}");
            }
            format!("Built::Missing({reason:?})")
        }
    };
    if let Err(e) = fs::write(out.join("web_assets.rs"), code) {
        panic!("cannot write to OUT_DIR: {e}");
    }
}

/// Installs the locked npm packages when needed and runs `web/build.mjs` into `dist`.
fn build(web: &Path, dist: &Path) -> Result<(), String> {
    if !web.join("package.json").exists() {
        return Err(format!("{} has no package.json", web.display()));
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return Err("Node.js and npm were not found on the machine that built it".to_owned());
    }
    let installed = web.join("node_modules/.package-lock.json");
    if modified(&installed) < modified(&web.join("package-lock.json")) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(web),
            "npm ci",
        )?;
    }
    run(
        Command::new("node")
            .arg("build.mjs")
            .arg("--outdir")
            .arg(dist)
            .current_dir(web),
        "node build.mjs",
    )
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{what} could not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    Err(format!("{what} failed ({}): {last}", output.status))
}

/// Rust source for `Built::Ready`, with every file `manifest.tsv` lists included as bytes.
fn embed(dist: &Path) -> Result<String, String> {
    let manifest = fs::read_to_string(dist.join("manifest.tsv")).map_err(|e| format!("no manifest.tsv: {e}"))?;
    let include = |file: &str| format!("include_bytes!({:?})", dist.join(file).display().to_string());
    let (mut playground, mut dashboard, mut assets) = (None, None, String::new());
    for line in manifest.lines() {
        match line.split('\t').collect::<Vec<_>>()[..] {
            ["page", "playground", file] => playground = Some(include(file)),
            ["page", "dashboard", file] => dashboard = Some(include(file)),
            ["asset", path, content_type, file, gzip, brotli] => {
                let _ = writeln!(
                    assets,
                    "        Asset {{ path: {path:?}, content_type: {content_type:?}, identity: {}, gzip: {}, brotli: {} }},",
                    include(file),
                    include(gzip),
                    include(brotli),
                );
            }
            _ => return Err(format!("manifest.tsv has a line this build does not know: {line:?}")),
        }
    }
    let (Some(playground), Some(dashboard)) = (playground, dashboard) else {
        return Err("manifest.tsv names no playground or no dashboard page".to_owned());
    };
    Ok(format!(
        "Built::Ready {{\n    playground: {playground},\n    dashboard: {dashboard},\n    assets: &[\n{assets}    ],\n}}\n"
    ))
}
