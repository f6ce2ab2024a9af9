#!/usr/bin/env python3
"""The course's sentences and their Chinese (src/i18n/i18n.hpp).

    scripts/i18n.py keys       every tr("…")/trf("…") in the sources, with where it is
    scripts/i18n.py missing    the sentences the Chinese catalogue lacks, as catalogue lines to fill in
    scripts/i18n.py stale      catalogue entries no source uses any more

Used by tests/e2e/test_i18n.py: a sentence without its Chinese fails the tests."""
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SOURCES = ["src/**/*.cpp", "src/**/*.hpp", "lessons/**/*.cpp", "exercises/check.cpp", "tests/cases/exercise_cases.hpp"]
CATALOGUE = "src/i18n/zh/*.inc"

LITERAL = r'"(?:[^"\\\n]|\\.)*"'
LITERALS = rf'(?:{LITERAL}\s*)+'
CALL = re.compile(rf'(?:\b(?:tr[fs]?|N_|because)\(|\b(?:log|set_detail)\(\s*\*?[\w.>-]+,\s*)\s*({LITERALS})\s*[,)]')
ENTRY = re.compile(rf'\{{\s*({LITERALS})\s*,\s*({LITERALS})\s*\}}\s*,')
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "'": "'", "0": "\0", "a": "\a", "r": "\r"}


def unquote(literals):
    """The text of adjacent C++ string literals, escapes resolved (\\x.. too)."""
    out = []
    for lit in re.findall(LITERAL, literals):
        body = lit[1:-1]
        i = 0
        while i < len(body):
            c = body[i]
            if c == "\\":
                n = body[i + 1]
                if n == "x":
                    m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
                    out.append(chr(int(m.group(0), 16)))
                    i += 2 + len(m.group(0))
                    continue
                out.append(ESCAPES[n])
                i += 2
                continue
            out.append(c)
            i += 1
    return "".join(out)


def source_files():
    files = set()
    for pattern in SOURCES:
        files.update(glob.glob(os.path.join(ROOT, pattern), recursive=True))
    return sorted(f for f in files if "/i18n/" not in f)


def keys(every=False):
    """{english: [file:line, …]} for every tr()/trf() in the sources (every=True: also those with no
    word to translate, which the catalogue may still hold for their punctuation: "({} B) {}")."""
    found = {}
    for path in source_files():
        text = open(path, encoding="utf-8").read()
        for m in CALL.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            if not every and not re.search("[A-Za-z]{2}", unquote(m.group(1))):
                continue  # "{}", "#{} {}": nothing to translate
            found.setdefault(unquote(m.group(1)), []).append(f"{os.path.relpath(path, ROOT)}:{line}")
    return found


def catalogue():
    """[(english, chinese, file:line)] for every entry of the Chinese catalogue."""
    entries = []
    for path in sorted(glob.glob(os.path.join(ROOT, CATALOGUE))):
        text = open(path, encoding="utf-8").read()
        for m in ENTRY.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            entries.append((unquote(m.group(1)), unquote(m.group(2)), f"{os.path.relpath(path, ROOT)}:{line}"))
    return entries


# fmt's replacement fields: {}, {0}, {:<8}, {1:.2f}; braces around anything else are text.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{\d*(?::[^{}]*)?\}")


def placeholders(text):
    """The fmt replacement fields of `text`, as (index or None, spec), in order."""
    fields = []
    for m in PLACEHOLDER.finditer(text):
        f = m.group(0)
        if f in ("{{", "}}"):
            continue
        inner = f[1:-1]
        index, _, spec = inner.partition(":")
        fields.append((int(index) if index else None, spec))
    return fields


def same_fields(en, zh):
    """Both sentences take the same arguments with the same formats (zh may reorder with {N})."""
    a, b = placeholders(en), placeholders(zh)
    if len(a) != len(b):
        return False
    # {N:.0} prints nothing of a string: how a sentence drops an English-only argument (a plural "s").
    b = [(i, "" if spec == ".0" else spec) for i, spec in b]
    def by_index(fields):
        if all(i is None for i, _ in fields):
            return sorted((n, spec) for n, (_, spec) in enumerate(fields))
        return sorted((i, spec) for i, spec in fields)
    return by_index(a) == by_index(b)


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "missing"
    k = keys()
    have = {en for en, zh, _ in catalogue() if zh}
    if what == "keys":
        for en, where in sorted(k.items()):
            print(f"{where[0]}: {quote(en)}")
    elif what == "missing":
        for en, where in sorted(k.items(), key=lambda kv: kv[1][0]):
            if en not in have:
                print(f"// {where[0]}\n{{{quote(en)},\n \"\"}},")
    elif what == "stale":
        used = keys(every=True)
        for en, _, where in catalogue():
            if en not in used:
                print(f"{where}: {quote(en)}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
