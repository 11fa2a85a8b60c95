//! The documentation's relative links lead somewhere: every Markdown link `[text](target)` in
//! README.md, docs/*.md, deploy/README.md and each crates/*/README.md that is not an absolute
//! URL or a pure `#anchor` names a file or folder that exists inside the repository. Links in
//! code (fenced blocks and inline code spans) are not links. The README also stays short: the
//! depth lives in docs/.

use std::path::{Path, PathBuf};

/// Most lines README.md may have.
const README_MAX_LINES: usize = 200;

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::canonicalize(&root).unwrap_or_else(|e| panic!("cannot resolve {}: {e}", root.display()))
}

/// The Markdown files whose links are checked, relative to the repository root.
fn documentation_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    docs.sort();
    files.extend(docs);
    files.push(PathBuf::from("deploy/README.md"));
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ exists")
        .filter_map(|entry| entry.ok().map(|e| e.path().join("README.md")))
        .filter(|p| p.is_file())
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    crates.sort();
    files.extend(crates);
    files
}

/// `line` with the contents of its inline code spans blanked out. A span opens with a run of
/// backticks and closes at the next run of the same length; an unclosed run is literal text.
fn without_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&c| c == '`').count();
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let other = chars[j..].iter().take_while(|&&c| c == '`').count();
                if other == run {
                    close = Some(j);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                out.extend(std::iter::repeat_n(' ', end + run - i));
                i = end + run;
            }
            None => {
                out.extend(std::iter::repeat_n('`', run));
                i += run;
            }
        }
    }
    out
}

/// The fence a line opens or closes (its character and length), if it is one. Indented
/// fences count too, as a list item may hold a fenced block.
fn fence(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start();
    let c = trimmed.chars().next().filter(|&c| c == '`' || c == '~')?;
    let n = trimmed.chars().take_while(|&x| x == c).count();
    (n >= 3).then_some((c, n))
}

/// The target of the link whose `(` is at the start of `rest`: up to the matching `)`, without
/// a title (`[x](file.md "title")`) or angle brackets (`[x](<a b.md>)`).
fn link_target(rest: &str) -> Option<String> {
    let inner = rest.strip_prefix('(')?;
    if let Some(angled) = inner.strip_prefix('<') {
        return angled.find('>').map(|end| angled[..end].to_string());
    }
    let mut depth = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(inner[..i].split_whitespace().next().unwrap_or("").to_string()),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Every inline link target of a Markdown text, with its line number (from 1). Fenced code
/// blocks and inline code spans are skipped.
fn links(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut open_fence: Option<(char, usize)> = None;
    for (index, line) in markdown.lines().enumerate() {
        if let Some((c, n)) = open_fence {
            if fence(line).is_some_and(|(d, m)| d == c && m >= n) {
                open_fence = None;
            }
            continue;
        }
        if let Some(f) = fence(line) {
            open_fence = Some(f);
            continue;
        }
        let text = without_code_spans(line);
        let mut from = 0;
        while let Some(at) = text[from..].find("](") {
            let paren = from + at + 1;
            if text[..paren].contains('[')
                && let Some(target) = link_target(&text[paren..])
            {
                found.push((index + 1, target));
            }
            from = paren;
        }
    }
    found
}

/// Whether a target leaves the repository by itself: a URL with a scheme (`https:`,
/// `mailto:`, ...) or a protocol-relative one (`//host/...`).
fn is_absolute(target: &str) -> bool {
    if target.starts_with("//") {
        return true;
    }
    match target.find(':') {
        Some(colon) => {
            let scheme = &target[..colon];
            scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }
        None => false,
    }
}

/// Why a link from `file` (relative to `root`) to `target` is broken, or None when it leads to
/// something inside the repository (or is not a path at all).
fn broken(root: &Path, file: &Path, target: &str) -> Option<String> {
    if target.is_empty() || target.starts_with('#') || is_absolute(target) {
        return None;
    }
    let path = target.split(['#', '?']).next().unwrap_or("");
    let resolved = match path.strip_prefix('/') {
        Some(from_root) => root.join(from_root),
        None => root.join(file).parent().unwrap_or(root).join(path),
    };
    match std::fs::canonicalize(&resolved) {
        Err(_) => Some(format!("{target}: no such file or folder")),
        Ok(real) if !real.starts_with(root) => Some(format!("{target}: outside the repository")),
        Ok(_) => None,
    }
}

#[test]
fn every_relative_link_leads_into_the_repository() {
    let root = repo_root();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in documentation_files(&root) {
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            problems.push(format!("{}: cannot be read", file.display()));
            continue;
        };
        for (line, target) in links(&text) {
            checked += 1;
            if let Some(why) = broken(&root, &file, &target) {
                problems.push(format!("{}:{line}: {why}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{} broken link(s) of {checked}:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn readme_stays_short() {
    let text = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md is readable");
    let lines = text.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move the depth into docs/"
    );
}

#[test]
fn links_are_found_outside_code_only() {
    let markdown = "\
See [the API](docs/http-api.md#auth) and [Learn](https://learn.microsoft.com/x).
Code is not a link: `[x](y)`, nor ``a `[x](z)` b``; but [this](a_(b).md \"title\") is.

```sh
echo [x](fenced.md)
```
~~~
[x](tilde.md)
~~~
![image](img/a.png) and [angled](<with space.md>)
";
    assert_eq!(
        links(markdown),
        vec![
            (1, "docs/http-api.md#auth".to_string()),
            (1, "https://learn.microsoft.com/x".to_string()),
            (2, "a_(b).md".to_string()),
            (10, "img/a.png".to_string()),
            (10, "with space.md".to_string()),
        ]
    );
    assert!(is_absolute("https://learn.microsoft.com/x") && is_absolute("mailto:a@b.c"));
    assert!(!is_absolute("docs/http-api.md#auth") && !is_absolute("../deploy/README.md"));

    let root = repo_root();
    let readme = Path::new("README.md");
    assert_eq!(broken(&root, readme, "https://learn.microsoft.com/x"), None);
    assert_eq!(broken(&root, readme, "#workspace"), None);
    assert_eq!(broken(&root, Path::new("docs/x.md"), "architecture.md#layers"), None);
    assert_eq!(broken(&root, Path::new("docs/x.md"), "../deploy/README.md"), None);
    assert!(broken(&root, readme, "docs/no-such-page.md").is_some());
    assert!(broken(&root, readme, "../../etc").is_some(), "a path out of the repository is broken");
}
