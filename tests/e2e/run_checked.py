"""Runs one program and judges it as a test: it must exit 0, print every --expect pattern (in
order), print none of the --forbid patterns (by default ✗), and report no sanitizer error or
`terminate called`. CTest's PASS_REGULAR_EXPRESSION alone would ignore the exit code.

    run_checked.py [--expect REGEX]... [--forbid REGEX]... [--allow-fail-marks] [--width N] [--chinese]
                   -- PROGRAM ARGS...

--width N: no line wider than N terminal columns (a Chinese character counts two: East Asian
Width). --chinese: the narration is Chinese: no line of English prose (four English words in a
row, outside quotes, JSON and HTTP heads) and some Chinese on the screen.
"""
import re
import subprocess
import sys
import unicodedata


def columns(line):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


# What stays the same in every language: quoted data, JSON, HTTP heads and hex.
# What a bot's page shows ("  alice  看到  system: bob joined the chat") is the server's own
# words, the same bytes in every language.
# A packet cut short to fit the line ("42[\"message\",{……") is data to its end.
DATA = re.compile(r'"[^"]*"|\{.*\}|\[.*\]|[\[{]"[^\n]*…$|看到  .*$|\bERROR .*$')
HTTP_LINE = re.compile(r"^\s*(?:[A-Z][A-Za-z-]+: |[A-Z][A-Za-z-]+ {2,}|GET |HTTP/1\.1 |[0-9a-f]{4}  )")
PROSE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,]+[a-z]+){3,}\b")


def english_lines(out):
    lines = []
    for line in out.splitlines():
        if HTTP_LINE.match(line) or "␊" in line:  # bytes as they were sent, line endings shown
            continue
        if PROSE.search(DATA.sub("", line)):
            lines.append(line)
    return lines


def main():
    args = sys.argv[1:]
    split = args.index("--")
    options, command = args[:split], args[split + 1:]
    expect, forbid = [], ["✗"]
    width, chinese = None, False
    i = 0
    while i < len(options):
        if options[i] == "--expect":
            expect.append(options[i + 1])
            i += 2
        elif options[i] == "--forbid":
            forbid.append(options[i + 1])
            i += 2
        elif options[i] == "--width":
            width = int(options[i + 1])
            i += 2
        elif options[i] == "--chinese":
            chinese = True
            i += 1
        elif options[i] == "--allow-fail-marks":
            forbid.remove("✗")
            i += 1
        else:
            sys.exit(f"unknown option {options[i]}")
    p = subprocess.run(command, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    problems = []
    if p.returncode != 0:
        problems.append(f"exit code {p.returncode}")
    for bad in ("Sanitizer", "runtime error", "terminate called"):
        if bad in err or bad in out:
            problems.append(f"it printed {bad!r}")
    at = 0
    for pattern in expect:
        m = re.compile(pattern, re.S).search(out, at)
        if not m:
            problems.append(f"expected, in order: {pattern!r}")
        else:
            at = m.end()
    for pattern in forbid:
        if re.search(pattern, out):
            problems.append(f"it printed {pattern!r}")
    if width is not None:
        wide = [line for line in out.splitlines() if columns(line) > width]
        if wide:
            problems.append(f"{len(wide)} lines wider than {width} columns, the first: {wide[0]!r}")
    if chinese:
        english = english_lines(out)
        if english:
            problems.append(f"{len(english)} lines of English prose in the Chinese narration:\n    "
                            + "\n    ".join(repr(line) for line in english[:30]))
        if not re.search(r"[\u4e00-\u9fff]", out):
            problems.append("no Chinese at all")
    if problems:
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.exit("FAILED: " + "; ".join(problems))
    print(f"ok: {' '.join(command[:2])}… exit 0, {len(expect)} expected patterns, no forbidden one")


main()
