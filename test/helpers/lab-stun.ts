/**
 * A STUN binding server (RFC 5389, XOR-MAPPED-ADDRESS) for the namespace
 * tests: miniupnpd asks it for the router's public address, since its WAN
 * address is in a reserved range it would not otherwise map ports for. Every
 * request is answered from the one socket (CHANGE-REQUEST is not honoured,
 * which miniupnpd reads as "no NAT upstream", as is true in the lab).
 * Usage: node lab-stun.ts HOST PORT
 */
import { createSocket } from 'node:dgram';

const [host = '0.0.0.0', port = '3478'] = process.argv.slice(2);
const socket = createSocket('udp4');
socket.on('message', (msg, from) => {
  if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001) return;
  const out = Buffer.alloc(32);
  out.writeUInt16BE(0x0101, 0);
  out.writeUInt16BE(12, 2);
  msg.copy(out, 4, 4, 20); // magic cookie and transaction id
  out.writeUInt16BE(0x0020, 20);
  out.writeUInt16BE(8, 22);
  out.writeUInt8(1, 25);
  out.writeUInt16BE(from.port ^ 0x2112, 26);
  const cookie = [0x21, 0x12, 0xa4, 0x42];
  from.address.split('.').forEach((o, i) => (out[28 + i] = Number(o) ^ (cookie[i] ?? 0)));
  socket.send(out, from.port, from.address);
});
socket.bind(Number(port), host, () => process.stdout.write(`${JSON.stringify({ stun: `${host}:${port}` })}\n`));
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
