"""The course in two languages (issue 14, src/i18n/i18n.hpp): every sentence a lesson prints has
its Chinese in the catalogue, the language is chosen by --lang or the environment, Chinese lines
stay within 100 columns counting a Chinese character as two, tables and frame legends line up,
and the bytes (hex, diagrams, heads) are the same in both languages."""
import json
import os
import re
import socket
import subprocess
import sys
import unicodedata
import unittest

from harness import BIN

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import i18n  # noqa: E402  scripts/i18n.py

LESSONS = ["lesson1-raw-tcp", "lesson2-handshake", "lesson3-accept-key", "lesson4-framing", "lesson5-chat",
           "lesson6-client", "lesson7-wss", "lesson8-compression", "lesson9-socketio", "lesson10-scale-out"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def columns(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(name, *args, env=None, lang="zh"):
    environment = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    environment.update(env or {})
    command = [os.path.join(BIN, name), *args, "--color", "never"] + (["--lang", lang] if lang else [])
    p = subprocess.run(command, capture_output=True, timeout=60, env=environment, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


class Catalogue(unittest.TestCase):
    def test_every_sentence_has_its_chinese(self):
        keys = i18n.keys()
        entries = i18n.catalogue()
        chinese = {en: zh for en, zh, _ in entries if zh}
        missing = sorted(f"{where[0]}: {i18n.quote(en)}" for en, where in keys.items() if en not in chinese)
        self.assertEqual(missing, [], "sentences without Chinese (scripts/i18n.py missing lists them to fill in)")
        self.assertGreater(len(keys), 500)

    def test_no_entry_is_stale_or_twice(self):
        keys = i18n.keys(every=True)
        seen = {}
        for en, zh, where in i18n.catalogue():
            self.assertIn(en, keys, f"{where}: no source says this any more")
            self.assertNotIn(en, seen, f"{where}: already at {seen.get(en)}")
            seen[en] = where

    def test_the_chinese_takes_the_same_arguments(self):
        for en, zh, where in i18n.catalogue():
            with self.subTest(where=where):
                self.assertTrue(i18n.same_fields(en, zh), f"{i18n.quote(en)} → {i18n.quote(zh)}")
                # The same frame around the sentence: leading and trailing line breaks.
                self.assertEqual(len(en) - len(en.lstrip("\n")), len(zh) - len(zh.lstrip("\n")), i18n.quote(zh))
                self.assertEqual(len(en) - len(en.rstrip("\n")), len(zh) - len(zh.rstrip("\n")), i18n.quote(zh))
                # Translated, unless there is nothing to translate (protocol words and placeholders).
                words = [w for w in re.sub(r"\{[^}]*\}", "", en).split() if re.fullmatch(r"[a-z]{3,}[,.:;]?", w)]
                if len(words) >= 2:
                    self.assertRegex(zh, CJK, f"{i18n.quote(en)} is not translated")

    def test_every_line_fits_in_100_columns(self):
        # Sentences laid out in lines (help texts are one line each, wrapped by --help: below).
        for en, zh, where in i18n.catalogue():
            if "\n" not in en:
                continue
            for line in re.sub(r"\{[^}]*\}", "", zh).split("\n"):
                self.assertLessEqual(columns(line), 100, f"{where}: {line!r}")


class Choosing(unittest.TestCase):
    def test_help_in_chinese_within_the_width(self):
        for name in LESSONS:
            with self.subTest(lesson=name):
                rc, out, err = run(name, "--help")
                self.assertEqual(rc, 0, err)
                self.assertIn("选项", out)
                self.assertRegex(out.splitlines()[0], CJK)  # the lesson's own description
                for line in out.splitlines():
                    self.assertLessEqual(columns(line), 100, line)
                self.assertIn("--lang", out)

    def test_the_environment_chooses_and_lang_overrides(self):
        zh = {"LANG": "zh_CN.UTF-8"}
        rc, out, _ = run("lesson3-accept-key", env=zh, lang=None)
        self.assertEqual(rc, 0)
        self.assertIn("步骤 1", out)
        for env, lang, chinese in [({"LANG": "zh_CN.UTF-8"}, "en", False), ({"LANG": "zh_TW.UTF-8", "LC_ALL": "C"}, None, False),
                                   ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, None, True),
                                   ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, None, True),
                                   ({}, None, False), ({"LANG": "de_DE.UTF-8"}, None, False), ({"LANG": "C"}, "zh", True)]:
            with self.subTest(env=env, lang=lang):
                rc, out, _ = run("lesson3-accept-key", env=env, lang=lang)
                self.assertEqual(rc, 0)
                self.assertEqual("步骤 1" in out, chinese, out[:200])
                self.assertEqual("Step 1" in out, not chinese)

    def test_an_unknown_language_is_refused(self):
        rc, out, err = run("lesson3-accept-key", lang="fr")
        self.assertNotEqual(rc, 0)
        self.assertIn("--lang", out + err)


HEX_RUN = re.compile(r"(?:\b[0-9a-f]{2} ){3,}[0-9a-f]{2}\b")


def bytes_shown(out):
    """What does not depend on the language: hex, the heads as sent, the frame diagrams."""
    kept = []
    for line in out.splitlines():
        kept += HEX_RUN.findall(line)
        if line.endswith("␊") or (line.strip() and re.match(r"^(?:[ |+0-9-]*$|\|| [FIN] [RSV] [RSV] [RSV] |   1 2 3)", line)):
            kept.append(line)
    return kept


class SameBytes(unittest.TestCase):
    def both(self, name, *args):
        rc_en, en, err_en = run(name, *args, lang="en")
        rc_zh, zh, err_zh = run(name, *args, lang="zh")
        self.assertEqual((rc_en, rc_zh), (0, 0), err_en + err_zh)
        self.assertRegex(zh, CJK)
        return en, zh

    def test_lessons_1_to_4_show_the_same_bytes(self):
        for name, args in [("lesson1-raw-tcp", ["--demo", "--seed", "3", "--port", str(free_port())]),
                           ("lesson2-handshake", ["--demo", "--seed", "3", "--port", str(free_port())]),
                           ("lesson2-handshake", ["--demo", "--seed", "3", "--mistake", "bad-accept", "--port", str(free_port())]),
                           ("lesson3-accept-key", ["--demo", "--seed", "3"]),
                           ("lesson4-framing", ["--demo"]),
                           ("lesson4-framing", ["decode", "-v", "88 82 37 fa 21 3d 34 12 01"])]:
            with self.subTest(lesson=name, args=args):
                en, zh = self.both(name, *args)
                shown = bytes_shown(en)
                self.assertGreater(len(shown), 3)
                self.assertEqual(bytes_shown(zh), shown)


def display_column(line, text):
    """The terminal column at which `text` starts in `line`."""
    return columns(line[:line.index(text)])


class LinedUp(unittest.TestCase):
    def test_lesson_2_tables_line_up_in_chinese(self):
        rc, out, err = run("lesson2-handshake", "--demo", "--seed", "3")
        self.assertEqual(rc, 0, err)
        first = out.split("── ")[1]  # the first connection's request
        values = {"method": "GET", "target": "/", "version": "HTTP/1.1", "Upgrade": "websocket", "Connection": "Upgrade",
                  "Sec-WebSocket-Version": "13"}
        rows = [line for line in first.splitlines() if re.match(r"^  \S", line) and not line.startswith("  ✓")]
        starts = {display_column(line, values[line.split()[0]]) for line in rows if line.split()[0] in values}
        self.assertEqual(len(starts), 1, rows)
        checks = [line for line in out.splitlines() if re.match(r"^  [✓✗] [1-6]  ", line)]
        self.assertEqual(len(checks), 18)  # three requests, six checks each
        self.assertTrue(any(CJK.search(line) for line in checks))
        # The finding starts in one column: after the check (padded to 40 columns, Chinese counted as two).
        finding_columns = set()
        for line in checks:
            m = re.match(r"^(  [✓✗] [1-6]  )(.*?)( {2,})(\S.*)$", line)
            finding_columns.add(columns(m.group(1) + m.group(2) + m.group(3)))
        self.assertEqual(finding_columns, {2 + 1 + 1 + 1 + 2 + 40 + 1})

    def test_lesson_4_legends_line_up_in_chinese(self):
        rc, out, err = run("lesson4-framing", "--demo")
        self.assertEqual(rc, 0, err)
        legend = [line for line in out.splitlines() if re.match(r"^  (FIN|RSV1 RSV2 RSV3|opcode|MASK|载荷长度|掩码键|帧头长度) ", line)]
        self.assertGreater(len(legend), 40)
        self.assertTrue(any(line.startswith("  载荷长度") for line in legend))
        value_columns = {columns(re.match(r"^(  \S+(?: \S+)*? {2,})", line).group(1)) for line in legend}
        self.assertEqual(len(value_columns), 1, legend[:8])
        payloads = [line for line in out.splitlines() if line.startswith("载荷（")]
        self.assertGreater(len(payloads), 5)
        self.assertEqual({columns(re.match(r"^(\S+ +)", line).group(1)) for line in payloads}, {24})



class CommandLine(unittest.TestCase):
    """CLI11's help and errors, in the lesson's language too."""

    def test_a_subcommands_help_is_chinese_and_lined_up(self):
        rc, out, err = run("lesson6-client", "relay", "--help")
        self.assertEqual(rc, 0, err)
        self.assertIn("显示本帮助并退出", out)
        self.assertNotIn("print this help", out)
        lines = out.splitlines()
        url = next(line for line in lines if line.startswith("  url "))
        listen = next(line for line in lines if line.startswith("  --listen "))
        # CLI11 pads by bytes; the columns must line up by what a terminal shows ("必需" is 2 wide).
        self.assertEqual(display_column(url, "中继要转发到"), display_column(listen, "监听端口"))
        for line in lines:
            self.assertLessEqual(columns(line), 100, line)
        rc, out, err = run("lesson6-client", "--help")
        self.assertEqual(rc, 0, err)
        self.assertIn("子命令：", out)
        self.assertNotIn("Subcommands", out)

    def test_cli11s_own_words_are_chinese_with_full_width_colons(self):
        rc, out, err = run("lesson4-framing", "encode", "--help")
        self.assertEqual(rc, 0, err)
        for said in ("用法：", "选项：", "[选项组：payload]", "[下面这些选项必须恰好给出一个]", "互斥：--random-mask"):
            self.assertIn(said, out)
        self.assertNotRegex(out, r"Option Group|Exactly 1|用法:|选项:| \n")
        rc, out, err = run("lesson4-framing", "encode", "--help", lang="en")
        self.assertIn("[Option Group: payload]", out)
        self.assertNotRegex(out, r" \n", "a line that ends in a space")

    @staticmethod
    def cli(args, lang):
        # --lang first: these command lines end in a bad option or a missing value
        p = subprocess.run([os.path.join(BIN, "lesson6-client"), "--lang", lang, *args], capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr.decode("utf-8")

    def test_a_subcommand_refuses_the_apps_options(self):
        # --lang is each subcommand's own option: the relay must not take the client's --echo.
        rc, err = self.cli(["relay", "ws://127.0.0.1:1/", "--listen", "0", "--echo", "extra"], "zh")
        self.assertNotIn(rc, (0, 1), err)
        self.assertRegex(err, r"无法识别以下参数：.*--echo")

    def test_lang_after_a_subcommand(self):
        for lang, said in [("zh", "字节"), ("en", "bytes")]:
            rc, out, err = run("lesson4-framing", "decode", "81 02 68 69", lang=lang)  # --lang comes last
            self.assertEqual(rc, 0, err)
            self.assertIn(said, out)

    def test_command_line_errors_are_chinese(self):
        for args, said in [(["--connect-timeout"], "--connect-timeout：缺少 1 个必需的 FLOAT"),
                           (["--ca", "/nonexistent/ca.pem"], "--ca：文件不存在：/nonexistent/ca.pem"),
                           (["relay"], "必须给出 url"),
                           (["--connect-timeout", "1000"], "--connect-timeout：值 1000 不在"),
                           (["--connect-timeout", "0.01"], "值 0.01 不在 0.1 到 600 的范围内"),
                           (["--ca", "/tmp"], "--ca：这是一个目录，不是文件：/tmp"),
                           (["--frob"], "无法识别以下参数：--frob")]:
            with self.subTest(args=args):
                rc, err = self.cli(args, "zh")
                self.assertNotIn(rc, (0, 1), err)  # CLI11's exit code for a bad command line
                self.assertIn(said, err)
                self.assertIn("加上 --help 运行可查看更多信息", err)
                rc_en, err_en = self.cli(args, "en")
                self.assertEqual(rc_en, rc)
                self.assertIn("Run with --help", err_en)
                self.assertNotRegex(err + err_en, r"\.\d*0\b", "a number with trailing zeros")


class WireStaysEnglish(unittest.TestCase):
    """An Engine.IO refusal: its JSON body is the same bytes in both languages, its log line is
    in the lesson's language."""

    def refusal(self, lang, target):
        import http.client
        from harness import Lesson
        with Lesson("lesson9-socketio", "-v", "--lang", lang) as lesson:
            conn = http.client.HTTPConnection("127.0.0.1", lesson.port, timeout=10)
            conn.request("GET", target, headers={"Origin": "http://elsewhere.example"} if "sid" in target else {})
            answer = conn.getresponse()
            status, body = answer.status, answer.read()
            conn.close()
            log = lesson.wait_for_output(rb"HTTP GET .*\n")
            self.assertEqual(lesson.stop(), 0)
        return status, body, log

    def test_a_bad_request_gets_an_english_400_and_a_chinese_log_line(self):
        import socket
        from harness import Lesson
        for request, zh_log in [(b"GARBAGE\r\n\r\n", '请求行："GARBAGE"'),
                                (b"GET / HTTP/1.1\r\nbad header\r\n\r\n", '第 2 行："bad header" 里没有冒号')]:
            answers, logs = {}, {}
            for lang in ("en", "zh"):
                with Lesson("lesson4-framing", "serve", "-v", "--lang", lang) as lesson:
                    with socket.create_connection(("127.0.0.1", lesson.port), timeout=10) as s:
                        s.sendall(request)
                        answer = b""
                        while chunk := s.recv(4096):
                            answer += chunk
                    logs[lang] = lesson.wait_for_output(rb"#1 .*\n#1 .*\n")
                    self.assertEqual(lesson.stop(), 0)
                answers[lang] = answer
            with self.subTest(request=request):
                self.assertTrue(answers["en"].startswith(b"HTTP/1.1 400 Bad Request\r\n"), answers["en"])
                self.assertEqual(answers["zh"], answers["en"])
                self.assertTrue(answers["en"].isascii())
                self.assertIn(zh_log, logs["zh"])
                self.assertNotRegex(logs["zh"], r"request line:|has no colon")

    def test_the_json_body_is_english_and_the_log_is_chinese(self):
        for target, status, zh_log in [("/socket.io/?EIO=3&transport=polling", 400, "本服务器使用的是 EIO=4"),
                                       ("/socket.io/?EIO=4&transport=polling&sid=x", 403, "来自 http://elsewhere.example 的页面")]:
            with self.subTest(target=target):
                status_en, body_en, log_en = self.refusal("en", target)
                status_zh, body_zh, log_zh = self.refusal("zh", target)
                self.assertEqual((status_en, status_zh), (status, status))
                self.assertEqual(body_zh, body_en)
                self.assertTrue(body_en.isascii(), body_en)
                self.assertIn("detail", json.loads(body_en))
                self.assertIn(zh_log, log_zh)
                self.assertNotIn(zh_log, log_en)


if __name__ == "__main__":
    unittest.main()
