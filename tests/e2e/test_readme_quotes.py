"""Each lesson README quotes the lines that are the lesson's heart from the real source (design
§9). A quote is marked in the README as

    <!-- quote: FILE from "TEXT" to "REGEX" -->
    ```cpp
    ...the lines...
    ```

and must be, line for line, the source from the first line holding TEXT through the first line
after it matching REGEX. Run with --write to copy the source into the READMEs after a change."""
import glob
import os
import re
import sys
import unittest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MARK = re.compile(r'<!-- quote: (\S+) from "([^"]+)" to "([^"]+)" -->\n```cpp\n(.*?)```', re.S)


def source_lines(path, start, end):
    lines = open(os.path.join(ROOT, path), encoding="utf-8").read().split("\n")
    first = next(i for i, line in enumerate(lines) if start in line)
    last = next(i for i in range(first, len(lines)) if re.search(end, lines[i]))
    return "\n".join(lines[first:last + 1]) + "\n"


def readmes():
    return sorted(glob.glob(os.path.join(ROOT, "lessons", "*", "README.md")) +
                  glob.glob(os.path.join(ROOT, "lessons", "*", "README.zh.md")))


class ReadmeQuotes(unittest.TestCase):
    def test_every_lesson_quotes_its_heart(self):
        for readme in readmes():
            with self.subTest(readme=os.path.relpath(readme, ROOT)):
                self.assertTrue(MARK.search(open(readme, encoding="utf-8").read()), "no quote of the source")

    def test_quotes_match_the_source(self):
        for readme in readmes():
            total = 0
            for m in MARK.finditer(open(readme, encoding="utf-8").read()):
                path, start, end, quoted = m.groups()
                with self.subTest(readme=os.path.relpath(readme, ROOT), source=path):
                    expected = source_lines(path, start, end)
                    self.assertEqual(quoted, expected, "the quote drifted from the source: run this test with --write")
                total += len(quoted.splitlines())
            with self.subTest(readme=os.path.relpath(readme, ROOT)):
                self.assertTrue(10 <= total <= 30, f"a lesson quotes 10-30 lines of its heart, not {total}")


def write():
    for readme in readmes():
        text = open(readme, encoding="utf-8").read()
        new = MARK.sub(lambda m: f'<!-- quote: {m[1]} from "{m[2]}" to "{m[3]}" -->\n```cpp\n'
                                 f'{source_lines(m[1], m[2], m[3])}```', text)
        if new != text:
            open(readme, "w", encoding="utf-8").write(new)
            print("updated", os.path.relpath(readme, ROOT))


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    else:
        unittest.main(verbosity=2)
