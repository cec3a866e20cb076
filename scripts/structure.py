#!/usr/bin/env python3
"""The house's structural rules, checked: file size, function length, module cycles, crate edges.

    python3 scripts/structure.py            # report; exit 1 if a rule is broken
    python3 scripts/structure.py --top 20   # also list the largest files and longest functions

Rules (the README's crate map):
- no non-test source file over 800 lines;
- no production function (outside testkit/ and benches/) over 60 lines, except the media event loops listed in EXEMPT;
- no cycles between the modules of one crate (a module using its own ancestors is not a cycle);
- each crate's [dependencies] point the way the map says (ALLOWED below).

Test code is what sits in `tests/` directories, `tests.rs` files and `#[cfg(test)]` items.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_FILE_LINES = 800
MAX_FN_LINES = 60

# Functions allowed past MAX_FN_LINES, with the reason. Keep this list short.
EXEMPT: dict[str, str] = {}

# Which workspace crates each crate may depend on ([dependencies] only; dev-dependencies are free).
WORKSPACE = {
    "domain", "codec", "crawl", "knowledge", "migrations", "store", "telephony", "voice", "dialog",
    "sessions", "workflows", "activities", "api", "worker", "sim", "testkit", "tests", "switchboard",
}
ALLOWED = {
    "domain": set(),
    "codec": {"domain"},
    "crawl": {"domain"},
    "migrations": set(),
    "dialog": {"domain"},
    "sessions": {"domain"},
    "store": {"domain", "migrations"},
    "telephony": {"domain"},
    "voice": {"domain"},
    "workflows": {"domain", "dialog"},
    "activities": {"domain", "dialog", "workflows", "store", "telephony", "voice", "sessions", "crawl",
                   "knowledge"},
    "api": {"domain", "codec", "store", "telephony", "voice", "workflows", "sessions"},
    "worker": {"domain", "workflows", "activities"},
    "sim": {"domain", "telephony", "voice"},
    "testkit": {"domain", "voice"},
    "knowledge": {"domain"},
    "tests": WORKSPACE - {"tests"},
    "switchboard": WORKSPACE - {"tests", "switchboard", "testkit"},
}


def strip_code(text: str) -> str:
    """The text with comments, strings and char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 8]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def block_end(code: str, open_idx: int) -> int:
    depth = 0
    for j in range(open_idx, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def test_spans(code: str) -> list[tuple[int, int]]:
    """Character spans of `#[cfg(test)]` items."""
    spans = []
    for m in re.finditer(r"#\[cfg\(test\)\]", code):
        brace = code.find("{", m.end())
        semi = code.find(";", m.end())
        if brace < 0 or (0 <= semi < brace):
            continue
        spans.append((m.start(), block_end(code, brace)))
    return spans


def is_test_file(path: pathlib.Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return "tests" in parts[:-1] or path.name == "tests.rs" or parts[0] == "tests"


def production(rel: str) -> bool:
    """Code a user runs: not the test fakes (testkit) and not the benchmarks."""
    return not rel.startswith("testkit/") and "benches/" not in rel


def source_files() -> list[pathlib.Path]:
    files = []
    for p in sorted(ROOT.rglob("*.rs")):
        rel = p.relative_to(ROOT).parts
        if rel[0] in ("target", ".venv", "node_modules") or any(x.startswith(".") for x in rel):
            continue
        files.append(p)
    return files


def functions(path: pathlib.Path):
    text = path.read_text()
    code = strip_code(text)
    tests = test_spans(code)
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        if any(a <= m.start() <= b for a, b in tests):
            continue
        # the body is the first `{` at bracket depth 0 after the signature; a `;` first means no body
        depth, j = 0, m.end()
        while j < len(code):
            ch = code[j]
            if ch in "(<[":
                depth += 1
            elif ch in ")>]":
                depth -= 1 if not (ch == ">" and code[j - 1] == "-") else 0
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(code):
            continue
        end = block_end(code, j)
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, end) + 1
        yield m.group(1), first, last - first + 1


def crate_of(path: pathlib.Path) -> tuple[str, pathlib.Path] | None:
    rel = path.relative_to(ROOT).parts
    if rel[0] == "src":
        return "switchboard", ROOT / "src"
    if len(rel) > 2 and rel[1] == "src":
        return rel[0], ROOT / rel[0] / "src"
    return None


def module_of(path: pathlib.Path, src: pathlib.Path) -> tuple[str, ...]:
    rel = path.relative_to(src).with_suffix("").parts
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def module_cycles() -> list[str]:
    by_crate: dict[str, dict[tuple[str, ...], str]] = {}
    for p in source_files():
        c = crate_of(p)
        if not c or is_test_file(p):
            continue
        code = strip_code(p.read_text())
        for a, b in reversed(test_spans(code)):
            code = code[:a] + code[b + 1:]
        if "/bin/" in str(p):
            continue
        by_crate.setdefault(c[0], {})[module_of(p, c[1])] = code
    problems = []
    for crate, mods in by_crate.items():
        edges: dict[tuple, set] = {m: set() for m in mods}
        for m, code in mods.items():
            for ref in re.finditer(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*|::\{[^}]*\})+)", code):
                path = ref.group(1)
                targets = []
                if "{" in path:
                    head, _, inner = path.partition("::{")
                    for part in inner.rstrip("}").split(","):
                        targets.append(head + "::" + part.strip().split(" ")[0])
                else:
                    targets.append(path)
                for t in targets:
                    segs = [s for s in t.split("::") if s]
                    if not segs:
                        continue
                    if segs[0] == "crate":
                        base, segs = (), segs[1:]
                    else:
                        base = m
                        while segs and segs[0] in ("super", "self"):
                            if segs[0] == "super":
                                base = base[:-1]
                            segs = segs[1:]
                    target = base
                    for s in segs:
                        if target + (s,) in mods:
                            target = target + (s,)
                        else:
                            break
                    if target == m or m[: len(target)] == target or target[: len(m)] == m:
                        continue  # itself, an ancestor or a descendant
                    edges[m].add(target)
        # Tarjan's strongly connected components
        index, low, stack, on, out = {}, {}, [], set(), []
        counter = [0]

        def visit(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in edges.get(v, ()):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(comp)

        sys.setrecursionlimit(10000)
        for v in list(edges):
            if v not in index:
                visit(v)
        for comp in out:
            names = sorted("::".join(c) or "(root)" for c in comp)
            problems.append(f"module cycle in {crate}: " + " <-> ".join(names))
    return problems


def crate_edges() -> list[str]:
    problems = []
    for toml in sorted(ROOT.glob("*/Cargo.toml")) + [ROOT / "Cargo.toml"]:
        name = "switchboard" if toml.parent == ROOT else toml.parent.name
        text = toml.read_text()
        m = re.search(r"^\[dependencies\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
        if not m:
            continue
        deps = {re.split(r"[ .=]", line.strip())[0] for line in m.group(1).splitlines() if line.strip() and not line.startswith("#")}
        for d in sorted(deps & WORKSPACE):
            if d not in ALLOWED.get(name, set()):
                problems.append(f"crate edge {name} -> {d} is against the map")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=0)
    args = ap.parse_args()
    problems = []
    sizes, fns = [], []
    for p in source_files():
        rel = str(p.relative_to(ROOT))
        if is_test_file(p):
            continue
        lines = p.read_text().count("\n")
        sizes.append((lines, rel))
        if lines > MAX_FILE_LINES:
            problems.append(f"{rel}: {lines} lines (max {MAX_FILE_LINES})")
        for name, line, length in functions(p):
            fns.append((length, f"{rel}:{line} {name}"))
            if length > MAX_FN_LINES and name not in EXEMPT and production(rel):
                problems.append(f"{rel}:{line} fn {name}: {length} lines (max {MAX_FN_LINES})")
    problems += module_cycles()
    problems += crate_edges()
    if args.top:
        print(f"largest files (of {len(sizes)}):")
        for n, rel in sorted(sizes, reverse=True)[: args.top]:
            print(f"  {n:5} {rel}")
        print(f"longest functions (of {len(fns)}):")
        for n, where in sorted(fns, reverse=True)[: args.top]:
            print(f"  {n:5} {where}")
    for p in problems:
        print(p)
    print(f"structure: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
