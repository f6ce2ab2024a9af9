// A peer for `make bench`: design §5's chat room on Node's own socket.io server (npm
// socket.io@4.8.1), written the way the original blog's server is, so that ws_load --socketio
// measures lesson 9 and socket.io side by side with the same client. Not part of any lesson.
//
//   node bench/socketio_peer.cjs --port 0     prints "listening on http://127.0.0.1:PORT/"
'use strict';
const http = require('http');
const path = require('path');
const { Server } = require(path.join(__dirname, 'node_modules', 'socket.io'));

const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 0;

const server = http.createServer();
// The same limits as lesson 9's: 1 MB maxPayload, pings every 25 s, WebSocket allowed at once.
const io = new Server(server, { maxHttpBufferSize: 1e6, pingInterval: 25000, pingTimeout: 20000 });
const names = new Map();  // socket id → name

io.on('connection', (socket) => {
  socket.on('message', (msg) => {
    if (!msg || typeof msg !== 'object') return;
    const me = names.get(socket.id);
    if (msg.type === 'LOGIN' && typeof msg.name === 'string') {
      if (me !== undefined) return socket.send({ type: 'ERROR', message: 'already logged in as ' + me });
      if ([...names.values()].includes(msg.name)) return socket.send({ type: 'ERROR', message: 'the name is taken' });
      names.set(socket.id, msg.name);
      socket.send({ type: 'USERS', users: [...names.values()] });
      io.send({ type: 'LOGIN', message: msg.name + ' joined the chat', name: msg.name });
    } else if (msg.type === 'CHAT' && typeof msg.message === 'string') {
      if (me === undefined) return socket.send({ type: 'ERROR', message: 'log in first' });
      io.send({ type: 'CHAT', message: msg.message, sender: me });
    } else if (msg.type === 'LOGOUT') {
      socket.disconnect(true);
    }
  });
  socket.on('disconnect', () => {
    const me = names.get(socket.id);
    if (me === undefined) return;
    names.delete(socket.id);
    io.send({ type: 'LOGOUT', message: me + ' left the chat', name: me });
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
process.on('SIGTERM', () => process.exit(0));
