"""Every line a lesson prints fits 100 columns (design §4): --help of every binary and
subcommand, and every --demo. A CJK character counts as two columns (East Asian Width)."""
import os
import subprocess
import unicodedata
import unittest

from harness import BIN

WIDTH = 100
HELP = [["lesson1-raw-tcp"], ["lesson2-handshake"], ["lesson3-accept-key"], ["lesson4-framing"],
        ["lesson4-framing", "decode"], ["lesson4-framing", "encode"], ["lesson4-framing", "serve"],
        ["lesson5-chat"], ["lesson6-client"], ["lesson6-client", "relay"], ["lesson7-wss"],
        ["lesson8-compression"], ["lesson8-compression", "decode"], ["lesson8-compression", "serve"],
        ["lesson9-socketio"], ["lesson10-scale-out"]]
DEMOS = [["lesson1-raw-tcp"], ["lesson2-handshake"], ["lesson2-handshake", "--mistake", "lf-only"],
         ["lesson2-handshake", "--mistake", "no-blank-line"], ["lesson2-handshake", "--mistake", "bad-accept"],
         ["lesson3-accept-key"], ["lesson4-framing"], ["lesson5-chat", "-v"],
         ["lesson6-client"], ["lesson6-client", "-v"], ["lesson7-wss"], ["lesson7-wss", "-v"],
         ["lesson8-compression"], ["lesson9-socketio"], ["lesson9-socketio", "-v"],
         ["lesson10-scale-out"], ["lesson10-scale-out", "-v"]]


def columns(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


class Width(unittest.TestCase):
    def check(self, command):
        p = subprocess.run([os.path.join(BIN, command[0]), *command[1:]], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        for line in p.stdout.decode("utf-8").splitlines():
            self.assertLessEqual(columns(line), WIDTH, f"{' '.join(command)}: {line!r}")

    def test_help_fits(self):
        for command in HELP:
            with self.subTest(command=command):
                self.check(command + ["--help"])

    def test_demos_fit(self):
        for command in DEMOS:
            with self.subTest(command=command):
                self.check(command + ["--demo", "--seed", "1", "--color", "never"])

    def test_decode_fits(self):
        self.check(["lesson4-framing", "decode", "82 7e 00 05 48 65 6c 6c 6f 88 02 03 e8 81 01 41", "--color", "never"])
        self.check(["lesson4-framing", "encode", "--text", "a", "--repeat", "70000", "--color", "never"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
