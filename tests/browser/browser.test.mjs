// A real browser against the real lessons: Debian's chromium, driven by playwright-core.
// Run by CTest; WS_BIN names the folder with the lesson binaries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BIN = process.env.WS_BIN ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/bin');
const CHROMIUM = process.env.WS_CHROMIUM ?? '/usr/bin/chromium';
let browser;

// Starts a lesson with --port 0 and resolves with its URL once it prints `listening on ...`.
async function startLesson(name, ...args) {
  const port = args.includes('--port') || args.includes('--listen') ? [] : ['--port', '0'];
  const proc = spawn(path.join(BIN, name), [...args, ...port, '--color', 'never'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 10000);
    proc.stdout.on('data', (chunk) => {
      output += chunk;
      const m = output.match(/^listening on (https?:\/\/[^ ]+\/)\n/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
  proc.stdout.resume();
  return { proc, url, output: () => output };
}

// Waits until the lesson's output matches `pattern`.
async function waitForOutput(lesson, pattern, timeout = 10000) {
  const deadline = Date.now() + timeout;
  while (!pattern.test(lesson.output())) {
    if (Date.now() > deadline) throw new Error(`${pattern} not seen; output:\n${lesson.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopLesson(lesson) {
  lesson.proc.kill('SIGTERM');
  const [code] = await once(lesson.proc, 'exit');
  return code;
}

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => { await browser?.close(); });

// Lesson 1's README: a WebSocket that gets no answer stays in CONNECTING until the lesson hangs
// up, then fires error and close with 1006.
test('lesson 1: no answer means CONNECTING, then error and close 1006', async () => {
  const lesson = await startLesson('lesson1-raw-tcp', '--hang-up-after', '2');
  const page = await browser.newPage();
  const wsUrl = lesson.url.replace('http:', 'ws:');
  const result = await page.evaluate((url) => new Promise((resolve) => {
    const events = [];
    const socket = new WebSocket(url);
    setTimeout(() => events.push(`state ${socket.readyState} after 1 s`), 1000);
    socket.onerror = () => events.push('error');
    socket.onclose = (e) => { events.push(`close ${e.code}`); resolve(events); };
  }), wsUrl);
  assert.deepEqual(result, ['state 0 after 1 s', 'error', 'close 1006']);
  await waitForOutput(lesson, /GET \/ HTTP\/1\.1/);
  await page.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 2: the browser fires onopen after the 101', async () => {
  const lesson = await startLesson('lesson2-handshake');
  const page = await browser.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(lesson.url);
  await page.locator('#log .open').waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#state').textContent(), '1 OPEN');
  await page.close();
  assert.deepEqual(errors, []);  // not even a favicon 404
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 2 --tls: the handshake page over https:// opens a wss:// WebSocket', async () => {
  const lesson = await startLesson('lesson2-handshake', '--tls');
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const opened = [];
  page.on('websocket', (ws) => opened.push(ws.url()));
  await page.goto(lesson.url);
  await page.locator('#log .open').waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#state').textContent(), '1 OPEN');
  assert.ok(opened.length === 1 && opened[0].startsWith('wss://'), `the page opened ${opened}`);
  await context.close();
  assert.equal(await stopLesson(lesson), 0);
});

// What lesson 2's README says Chromium does with each wrong answer, checked with Chromium, and
// what the lesson then says it saw.
test('lesson 2 --mistake lf-only: Chromium accepts a 101 with bare LF line endings', async () => {
  const lesson = await startLesson('lesson2-handshake', '--mistake', 'lf-only');
  const page = await browser.newPage();
  await page.goto(lesson.url);
  await page.locator('#log .open').waitFor({ timeout: 10000 });
  await page.fill('#ipt', 'hello over LF');
  await page.click('#send');
  await waitForOutput(lesson, /frames arrive after the wrong answer: this client accepted it/);
  await waitForOutput(lesson, /received a text message: "hello over LF"/);
  await page.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 2 --mistake no-blank-line: Chromium waits in CONNECTING until the lesson hangs up', async () => {
  const lesson = await startLesson('lesson2-handshake', '--mistake', 'no-blank-line', '--mistake-wait', '3');
  const page = await browser.newPage();
  await page.goto(lesson.url);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await page.locator('#state').textContent(), '0 CONNECTING');
  await page.locator('#log .close').waitFor({ timeout: 10000 });
  assert.match(await page.locator('#log .close').first().textContent(), /code 1006/);
  assert.equal(await page.locator('#log .open').count(), 0);
  assert.match(lesson.output(), /no frame and no goodbye in 3 s: the client still waits/);
  await page.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 2 --mistake bad-accept: Chromium refuses the handshake', async () => {
  const lesson = await startLesson('lesson2-handshake', '--mistake', 'bad-accept');
  const page = await browser.newPage();
  await page.goto(lesson.url);
  await page.locator('#log .close').waitFor({ timeout: 10000 });
  const closeLine = await page.locator('#log .close').first().textContent();
  assert.match(closeLine, /code 1006/);
  assert.equal(await page.locator('#log .open').count(), 0);
  await waitForOutput(lesson, /closed the connection without sending a frame: it did not accept the answer/);
  await page.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 4 --no-deflate: the framing page shows the frames Chromium really sent', async () => {
  const lesson = await startLesson('lesson4-framing', 'serve', '--no-deflate');
  const page = await browser.newPage();
  await page.goto(lesson.url);
  await page.locator('#log .ok').first().waitFor({ timeout: 10000 });  // open
  for (const button of await page.locator('button[data-kind]').all()) await button.click();
  await page.waitForFunction(() => document.querySelectorAll('#log .report').length >= 6, null, { timeout: 10000 });
  const reports = (await page.locator('#log .report').evaluateAll((divs) => divs.map((d) => d.dataset.frames)))
    .reverse().map((r) => JSON.parse(r).frames);
  const sizes = [5, 200, 70000, 5, 200, 70000];
  reports.forEach((frames, i) => {
    // RFC 6455 §5.4: the first frame carries the type, the rest are continuations, the last has
    // FIN; together they are the message. Each uses the shortest length form (§5.2).
    assert.equal(frames[0].opcode, i < 3 ? 1 : 2);
    frames.slice(1).forEach((f) => assert.equal(f.opcode, 0));
    frames.forEach((f, k) => assert.equal(f.fin, k === frames.length - 1));
    assert.equal(frames.reduce((n, f) => n + f.length, 0), sizes[i]);
    frames.forEach((f) => assert.equal(f.form, f.length <= 125 ? '7-bit' : f.length <= 65535 ? '16-bit' : '64-bit'));
  });
  const text = await page.locator('#log').textContent();
  assert.equal((text.match(/✓ identical/g) ?? []).length, 6);
  assert.doesNotMatch(text, /differs/);
  await page.close();
  assert.equal(await stopLesson(lesson), 0);
});

// Every browser offers permessage-deflate, and lesson 4's echo server accepts by default: the
// browser's own WebSocket says so (extensions), and the report shows RSV1 on the first frame only.
test('lesson 4: Chromium and the echo server agree on permessage-deflate', async () => {
  const lesson = await startLesson('lesson4-framing', 'serve', '-v');
  const page = await browser.newPage();
  await page.goto(lesson.url);
  await page.locator('#log .ok').first().waitFor({ timeout: 10000 });
  const echoed = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    const text = 'compress me '.repeat(500);
    ws.send(text);
    const back = await new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
    ws.close();
    return { extensions: ws.extensions, same: back === text };
  }, lesson.url.replace('http:', 'ws:'));
  assert.match(echoed.extensions, /^permessage-deflate/);
  assert.ok(echoed.same, 'the echo came back inflated, identical');
  await waitForOutput(lesson, /permessage-deflate: permessage-deflate; server_no_context_takeover; client_no_context_takeover/);
  for (const button of await page.locator('button[data-kind]').all()) await button.click();
  await page.waitForFunction(() => document.querySelectorAll('#log .report').length >= 6, null, { timeout: 10000 });
  const reports = (await page.locator('#log .report').evaluateAll((divs) => divs.map((d) => d.dataset.frames)))
    .map((r) => JSON.parse(r).frames);
  reports.forEach((frames) => frames.forEach((f, k) => assert.equal(f.rsv1, k === 0, JSON.stringify(frames))));
  const text = await page.locator('#log').textContent();
  assert.equal((text.match(/✓ identical/g) ?? []).length, 6);
  assert.match(text, /RSV1: compressed/);
  await page.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 6: the relay between Chromium and lesson 5 shows every frame both ways', async () => {
  const chat = await startLesson('lesson5-chat');
  const upstream = chat.url.replace('http:', 'ws:') + 'ws';
  const relay = await startLesson('lesson6-client', 'relay', '--listen', '0', upstream, '-v');
  const alice = await browser.newPage();
  const bob = await browser.newPage();
  await alice.goto(`${relay.url}?name=alice`);  // the page too comes through the relay
  await alice.locator('#content .login').first().waitFor({ timeout: 10000 });
  await bob.goto(`${relay.url}?name=bob`);
  await alice.getByText('system: bob joined the chat').waitFor({ timeout: 10000 });
  await alice.fill('#ipt', 'through the relay');
  await alice.press('#ipt', 'Enter');
  await bob.getByText('alice: through the relay').waitFor({ timeout: 10000 });
  // Chromium and lesson 5 agree on permessage-deflate: the relay shows each frame as it
  // crossed (RSV1, compressed bytes), then the message inflated.
  await waitForOutput(relay, /→ text\s+fin masked RSV1 \d+ B /);
  await waitForOutput(relay, /→ compressed: \d+ B on the wire for \d+ B \(\d+%\) "\{\\?"type\\?":\\?"CHAT/);
  await waitForOutput(relay, /← inflated: \d+ B on the wire for \d+ B \(\d+%\) "\{\\?"type\\?":\\?"CHAT/);
  assert.match(relay.output(), /#\d+ from [\d.:]+: GET \/\?name=alice → 200 OK  \(plain HTTP/);
  assert.doesNotMatch(relay.output(), /broke a rule/);
  await alice.close();
  await bob.close();
  assert.equal(await stopLesson(relay), 0);
  assert.equal(await stopLesson(chat), 0);
});

// --tls: the same chat room over https:// and wss://. The certificate is made for this run,
// so the browser context is told to accept it (as a student clicks through the warning).
test('lesson 5 --tls: two tabs chat over wss://', async () => {
  const lesson = await startLesson('lesson5-chat', '--tls');
  assert.match(lesson.url, /^https:/);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const alice = await context.newPage();
  const bob = await context.newPage();
  const opened = [];
  alice.on('websocket', (ws) => opened.push(ws.url()));
  await alice.goto(`${lesson.url}?name=alice`);
  await alice.locator('#content .login').first().waitFor({ timeout: 10000 });
  await bob.goto(`${lesson.url}?name=bob`);
  await alice.getByText('system: bob joined the chat').waitFor({ timeout: 10000 });
  await alice.fill('#ipt', 'hello over TLS');
  await alice.press('#ipt', 'Enter');
  await bob.getByText('alice: hello over TLS').waitFor({ timeout: 10000 });
  assert.ok(opened.length > 0 && opened.every((u) => u.startsWith('wss://')), `the page opened ${opened}`);
  await context.close();
  assert.equal(await stopLesson(lesson), 0);
});

// Lesson 8's "done when": two tabs chat compressed, and -vv shows each message both ways.
test('lesson 8 serve -vv: two tabs chat compressed, both forms shown', async () => {
  const lesson = await startLesson('lesson8-compression', 'serve', '-vv');
  const alice = await browser.newPage();
  const bob = await browser.newPage();
  await alice.goto(`${lesson.url}?name=alice`);
  await alice.locator('#content .login').first().waitFor({ timeout: 10000 });
  await bob.goto(`${lesson.url}?name=bob`);
  await alice.getByText('system: bob joined the chat').waitFor({ timeout: 10000 });
  const line = 'squeeze me, squeeze me, squeeze me, squeeze me, squeeze me';
  await alice.fill('#ipt', line);
  await alice.press('#ipt', 'Enter');
  await bob.getByText(`alice: ${line}`).waitFor({ timeout: 10000 });
  await waitForOutput(lesson, /permessage-deflate: permessage-deflate; server_no_context_takeover; client_no_context_takeover/);
  await waitForOutput(lesson, /← inflated: \d+ B on the wire for \d+ B \(\d+%\) "\{"type":"CHAT","message":"squee/);
  await waitForOutput(lesson, /on the wire  [0-9a-f ]+ …  \(\d+ B, RSV1 set\)\n   message      7b 22 74 79 70 65/);
  await waitForOutput(lesson, /\(to 2 clients\) · compressed \d+ B → \d+ B/);
  await alice.close();
  await bob.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 5: two tabs chat and each sees the other', async () => {
  const lesson = await startLesson('lesson5-chat');
  const alice = await browser.newPage();
  const bob = await browser.newPage();
  await alice.goto(`${lesson.url}?name=alice`);
  await alice.locator('#content .login').first().waitFor();
  await bob.goto(`${lesson.url}?name=bob`);
  await alice.getByText('system: bob joined the chat').waitFor({ timeout: 10000 });

  await alice.fill('#ipt', 'hello bob <b>not bold</b>');
  await alice.press('#ipt', 'Enter');
  await bob.getByText('alice: hello bob <b>not bold</b>').waitFor({ timeout: 10000 });
  await alice.getByText('me: hello bob <b>not bold</b>').waitFor({ timeout: 10000 });
  assert.equal(await bob.locator('#content b').count(), 0);  // text, never HTML

  await bob.fill('#ipt', 'hi alice');
  await bob.click('#send');
  await alice.getByText('bob: hi alice').waitFor({ timeout: 10000 });
  assert.match(await alice.locator('#userlist').textContent(), /bob/);

  await bob.close();
  await alice.getByText('system: bob left the chat').waitFor({ timeout: 10000 });

  // The server restarts: the page sees close 1001, reconnects by itself and logs in again.
  const port = new URL(lesson.url).port;
  assert.equal(await stopLesson(lesson), 0);
  await alice.getByText(/disconnected \(code 1001/).waitFor({ timeout: 10000 });
  const again = await startLesson('lesson5-chat', '--port', port);
  await alice.getByText('connected as alice').waitFor({ timeout: 15000 });
  await alice.locator('#content').getByText('system: alice joined the chat').nth(1).waitFor({ timeout: 10000 });
  await alice.close();
  assert.equal(await stopLesson(again), 0);
});

// Lesson 9: the original blog's socket.io page, with socket.io-client from npm, on this server.
test('lesson 9: two socket.io tabs and a lesson-5 tab chat in one room; text stays text', async () => {
  const lesson = await startLesson('lesson9-socketio');
  const errors = [];
  const alice = await browser.newPage();
  const bob = await browser.newPage();
  const carol = await browser.newPage();
  for (const p of [alice, bob, carol]) p.on('pageerror', (e) => errors.push(e.message));
  await alice.goto(`${lesson.url}?name=alice`);
  await alice.getByText('system: alice joined the chat').waitFor({ timeout: 10000 });
  await bob.goto(`${lesson.url}?name=bob`);
  await alice.getByText('system: bob joined the chat').waitFor({ timeout: 10000 });
  await carol.goto(`${lesson.url}chatroom.html?name=carol`);  // lesson 5's plain WebSocket page
  await bob.getByText('system: carol joined the chat').waitFor({ timeout: 10000 });

  const markup = 'hello <img src=x onerror="window.pwned=true">';
  await alice.fill('#ipt', markup);
  await alice.press('#ipt', 'Enter');
  await bob.getByText(`alice: ${markup}`).waitFor({ timeout: 10000 });
  await carol.getByText(`alice: ${markup}`).waitFor({ timeout: 10000 });
  await alice.getByText(`me: ${markup}`).waitFor({ timeout: 10000 });
  assert.equal(await bob.locator('#content img').count(), 0);
  assert.equal(await bob.evaluate(() => window.pwned ?? false), false);

  await carol.fill('#ipt', 'hi from a plain WebSocket');
  await carol.press('#ipt', 'Enter');
  await alice.getByText('carol: hi from a plain WebSocket').waitFor({ timeout: 10000 });
  await bob.getByText('carol: hi from a plain WebSocket').waitFor({ timeout: 10000 });

  // The terminal showed the polling, the upgrade and the packets, decoded.
  await waitForOutput(lesson, /HTTP GET \/socket\.io\/\?EIO=4&transport=polling.* → 200: a new session/);
  await waitForOutput(lesson, /upgrade 2\/3: in 2probe, out 3probe/);
  await waitForOutput(lesson, /upgrade 3\/3: in 5 \(upgrade\)/);
  await waitForOutput(lesson, /in  42\["message",\{"type":"CHAT","message":"hello <img.* = EVENT "message" on namespace \//);
  await bob.close();
  await alice.getByText('system: bob left the chat').waitFor({ timeout: 10000 });
  assert.deepEqual(errors, []);
  await alice.close();
  await carol.close();
  assert.equal(await stopLesson(lesson), 0);
});

test('lesson 9 --as-published: the typo stops the script; with only the typo fixed, a message runs script', async () => {
  const published = await startLesson('lesson9-socketio', '--as-published');
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(published.url);
  await waitForOutput(published, /LOGIN user\d+/);  // the LOGIN went out before the typo
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(errors.some((m) => /getElementByI is not a function/.test(m)), errors.join('\n'));
  assert.equal(await page.locator('#content div').count(), 0);  // no message is ever shown
  await page.close();
  assert.equal(await stopLesson(published), 0);

  const typoFixed = await startLesson('lesson9-socketio', '--page', 'typo-fixed');
  const victim = await browser.newPage();
  const sender = await browser.newPage();
  await victim.goto(typoFixed.url);
  await victim.locator('#content div').first().waitFor({ timeout: 10000 });
  await sender.goto(typoFixed.url);
  await sender.fill('#ipt', '<img src=x onerror="window.pwned=true">');
  await sender.press('#ipt', 'Enter');
  await victim.waitForFunction(() => window.pwned === true, null, { timeout: 10000 });
  assert.equal(await victim.locator('#content img').count(), 1);  // the message became an element
  await victim.close();
  await sender.close();
  assert.equal(await stopLesson(typoFixed), 0);
});

// Lesson 10: two servers of one room (--servers 2: its own redis-server), a tab on each.
test('lesson 10: two tabs on two servers chat in one room through Redis', async () => {
  const lesson = await startLesson('lesson10-scale-out', '--servers', '2', '-v');
  await waitForOutput(lesson, /also listening on http:\/\/[^ ]+\/ \(server B\)/);
  const second = lesson.output().match(/also listening on (http:\/\/[^ ]+\/) \(server B\)/)[1];
  assert.notEqual(new URL(second).port, new URL(lesson.url).port);
  const alice = await browser.newPage();
  const bob = await browser.newPage();
  await alice.goto(`${lesson.url}?name=alice`);
  await alice.locator('#content .login').first().waitFor();
  await bob.goto(`${second}?name=bob`);
  await alice.getByText('system: bob joined the chat').waitFor({ timeout: 10000 });
  assert.match(await bob.locator('#userlist').textContent(), /alice/);  // USERS across servers

  await alice.fill('#ipt', 'hello from server A');
  await alice.press('#ipt', 'Enter');
  await bob.getByText('alice: hello from server A').waitFor({ timeout: 10000 });
  await alice.getByText('me: hello from server A').waitFor({ timeout: 10000 });
  await bob.fill('#ipt', 'hi from server B');
  await bob.press('#ipt', 'Enter');
  await alice.getByText('bob: hi from server B').waitFor({ timeout: 10000 });
  // Each message went through Redis: published by one server, handed back to both.
  await waitForOutput(lesson, /B redis ← Redis: \{"type":"CHAT","name":"alice","message":"hello from server A"/);
  await waitForOutput(lesson, /A redis ← Redis: \{"type":"CHAT","name":"bob","message":"hi from server B"/);

  await bob.close();
  await alice.getByText('system: bob left the chat').waitFor({ timeout: 10000 });
  await alice.close();
  assert.equal(await stopLesson(lesson), 0);
});
