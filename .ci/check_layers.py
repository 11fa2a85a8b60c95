#!/usr/bin/env python3
"""Checks the workspace's dependency arrows and finds dependencies nobody uses.

Reads `cargo metadata` and the sources of each package, and fails (exit 1), naming the
manifest and the rule, when:

- a package depends (normally, not as a dev-dependency) on a workspace crate it may not use:
  each crate may use only the crates of lower layers listed in ALLOWED;
- an outside crate appears where the layering forbids it (apalis outside the pipeline,
  reqwest outside the Dataverse client and the API's client, axum outside the two HTTP
  servers, the simulator or the test kit as a normal dependency, ...);
- a declared dependency is never named in the package's code (normal dependencies must be
  named under src/, dev-dependencies anywhere in the package).

The layers are written out in docs/architecture.md; keep the two in step.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

# Workspace crates each package may depend on (normal dependencies), lowest layers first.
ALLOWED = {
    # layer 0: no workspace dependency
    "activator-core": set(),
    "metrics": set(),
    "sim": set(),
    "redis-endpoint": set(),
    # layer 1: state and limits
    "store": {"activator-core", "redis-endpoint"},
    "ratelimit": {"redis-endpoint"},
    # layer 2: clients of outside HTTP services
    "dataverse": {"ratelimit"},
    "api-client": {"activator-core"},
    # layer 3: the work and the HTTP API (which never depends on the pipeline)
    "pipeline": {"activator-core", "store", "dataverse", "ratelimit", "metrics", "redis-endpoint"},
    "api": {"activator-core", "store", "metrics"},
    # layer 4: binaries, wiring only
    "activator": {"activator-core", "store", "dataverse", "pipeline", "api", "api-client", "metrics"},
    "dataverse-sim": {"sim"},
    # test support
    "testkit": set(),
    "e2e": {"activator-core", "store", "metrics", "testkit"},
}

# Outside crates allowed only in these packages (normal dependencies).
ONLY_IN = {
    "apalis": {"pipeline"},
    "apalis-core": {"pipeline"},
    "apalis-redis": {"pipeline"},
    "apalis-sqlite": {"pipeline"},
    "reqwest": {"dataverse", "api-client", "e2e"},
    "axum": {"api", "sim"},
    "hyper": {"sim"},
    "hyper-util": {"sim"},
    "sqlx": {"store", "pipeline"},
    "redis": {"redis-endpoint", "store", "ratelimit", "pipeline", "testkit"},
    "rustls": {"redis-endpoint"},
    "governor": {"ratelimit"},
    "indicatif": {"activator"},
    "clap": {"activator", "dataverse-sim"},
    "testcontainers": {"testkit"},
    "rcgen": {"testkit"},
    "testcontainers-modules": {"testkit"},
    "utoipa": {"api"},
}

# Crates a package may not name even as a dev-dependency.
NEVER = {
    "activator": {"reqwest", "axum", "hyper"},
}

# Dependencies whose code is named under another name than the package's (`package = ...`).
LIB_NAME = {"activator-core": "activator_core", "redis-endpoint": "redis_endpoint"}


def metadata():
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout)


def sources(root: Path, parts):
    text = []
    for part in parts:
        base = root / part
        files = [base] if base.is_file() else sorted(base.rglob("*.rs")) if base.is_dir() else []
        for f in files:
            text.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(text)


def named(code: str, lib: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(lib)}(::|!|\s*\{{|;|\s+as\b)", code) is not None


def check(meta) -> list[str]:
    problems = []
    workspace = {p["name"] for p in meta["packages"]}
    for package in meta["packages"]:
        name = package["name"]
        manifest = Path(package["manifest_path"])
        root = manifest.parent
        rel = manifest.relative_to(Path(meta["workspace_root"]))
        if name not in ALLOWED:
            problems.append(f"{rel}: package {name} has no place in the layers: add it to ALLOWED in .ci/check_layers.py")
            continue
        src = sources(root, ["src", "build.rs"])
        everything = sources(root, ["src", "build.rs", "tests", "benches", "examples"])
        normal = {d["name"] for d in package["dependencies"] if d["kind"] is None}
        for dep in package["dependencies"]:
            dname, kind = dep["name"], dep["kind"]
            label = "dev-dependency" if kind == "dev" else "build-dependency" if kind == "build" else "dependency"
            if dname in NEVER.get(name, set()):
                problems.append(f"{rel}: {name} may not depend on {dname}, even as a {label}")
            if kind is None:
                if dname in workspace and dname not in ALLOWED[name]:
                    problems.append(
                        f"{rel}: {name} -> {dname} points the wrong way: {name} may use only "
                        f"{', '.join(sorted(ALLOWED[name])) or 'no workspace crate'}"
                    )
                if dname in ONLY_IN and name not in ONLY_IN[dname]:
                    problems.append(
                        f"{rel}: {name} -> {dname}: only {', '.join(sorted(ONLY_IN[dname]))} may depend on {dname}"
                    )
            if kind == "dev" and dname in normal:
                continue  # a dev-dependency entry that only adds features to a normal one
            lib = dep.get("rename") or LIB_NAME.get(dname) or dname.replace("-", "_")
            code = src if kind is None else everything
            if not named(code, lib):
                where = "src/" if kind is None else "the package"
                problems.append(f"{rel}: {label} {dname} is declared but never named in {where}: remove it")
    return problems


def main() -> int:
    problems = check(metadata())
    for p in problems:
        print(f"layering: {p}", file=sys.stderr)
    if problems:
        print(f"layering: {len(problems)} problem(s); the layers are described in docs/architecture.md", file=sys.stderr)
        return 1
    print("layering: every dependency points down and is used")
    return 0


if __name__ == "__main__":
    sys.exit(main())
