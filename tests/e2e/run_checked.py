"""Runs one program and judges it as a test: it must exit 0, print every --expect pattern (in
order), print none of the --forbid patterns (by default ✗), and report no sanitizer error or
`terminate called`. CTest's PASS_REGULAR_EXPRESSION alone would ignore the exit code.

    run_checked.py [--expect REGEX]... [--forbid REGEX]... [--allow-fail-marks] -- PROGRAM ARGS...
"""
import re
import subprocess
import sys


def main():
    args = sys.argv[1:]
    split = args.index("--")
    options, command = args[:split], args[split + 1:]
    expect, forbid = [], ["✗"]
    i = 0
    while i < len(options):
        if options[i] == "--expect":
            expect.append(options[i + 1])
            i += 2
        elif options[i] == "--forbid":
            forbid.append(options[i + 1])
            i += 2
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
    if problems:
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.exit("FAILED: " + "; ".join(problems))
    print(f"ok: {' '.join(command[:2])}… exit 0, {len(expect)} expected patterns, no forbidden one")


main()
