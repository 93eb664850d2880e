//! Checks that keep the documents true.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_sources(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The backticked test names in the "Test(s)" column of each hazard row.
fn hazard_log_test_names(log: &str) -> Vec<(String, String)> {
    let mut names = Vec::new();
    let mut test_column = None;
    for line in log.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.first() == Some(&"ID") {
            test_column = cells.iter().position(|cell| cell.starts_with("Test"));
            continue;
        }
        let (Some(column), Some(id)) = (test_column, cells.first()) else {
            continue;
        };
        if !id.starts_with('H') || cells.len() <= column {
            continue;
        }
        for (idx, part) in cells[column].split('`').enumerate() {
            if idx % 2 == 1 {
                names.push((id.to_string(), part.to_owned()));
            }
        }
    }
    names
}

#[test]
fn hazard_log_names_only_existing_tests() {
    let root = repo_root();
    let log = std::fs::read_to_string(root.join("docs/clinical-safety/hazard-log.md"))
        .expect("the hazard log exists");
    let names = hazard_log_test_names(&log);
    assert!(
        names.len() >= 10,
        "the hazard log should name the tests that prove its controls"
    );
    let mut sources = Vec::new();
    rust_sources(&root.join("crates"), &mut sources);
    // Whitespace is dropped so that a name on its own line (as rustfmt
    // puts long ones) is still found.
    let text: String = sources
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let missing: Vec<String> = names
        .iter()
        .filter(|(_, name)| {
            !(text.contains(&format!("fn{name}("))
                || text.contains(&format!("both_engines!({name},")))
        })
        .map(|(id, name)| format!("{id}: {name}"))
        .collect();
    assert!(
        missing.is_empty(),
        "the hazard log names tests that do not exist: {missing:?}"
    );
}

#[test]
fn the_hazard_log_parser_reads_the_test_column() {
    let log = "| ID | Hazard | Test(s) proving the control | Status |\n|---|---|---|---|\n| H99 | x | (1) `first_test`; (2) `second_test` | Open |\n";
    assert_eq!(
        hazard_log_test_names(log),
        vec![
            ("H99".to_owned(), "first_test".to_owned()),
            ("H99".to_owned(), "second_test".to_owned())
        ]
    );
}

#[test]
fn the_readme_gives_the_two_set_up_commands_and_ci_runs_the_second() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md exists");
    assert!(
        readme.contains("cargo run --release -- demo"),
        "the README runs the demo"
    );
    assert!(
        readme.contains("scripts/test"),
        "the README gives the test command"
    );
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run exists");
    assert!(
        ci.contains("scripts/test"),
        ".ci/run calls the README's test command"
    );
}
