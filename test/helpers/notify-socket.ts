import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { pythonBin } from './python.js';

/** One datagram received on the fake NOTIFY_SOCKET. */
export interface NotifyDatagram {
  /** The text, e.g. "READY=1\nSTATUS=…". */
  data: string;
  /** File descriptors passed with it (systemd-notify's BARRIER=1 carries one). */
  fds: number;
  /** CLOCK_MONOTONIC at receipt, µs (Python's time.monotonic_ns, the clock systemd uses). */
  monoUsec: bigint;
}

// Node has no AF_UNIX datagram sockets, so the service manager's end is played by Python.
// Received descriptors are closed at once, as systemd does: that is what releases
// systemd-notify's barrier wait.
const SERVER = String.raw`
import array, json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    fds = array.array('i')
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
    for fd in fds:
        os.close(fd)
    print(json.dumps({"data": data.decode("utf-8", "replace"), "fds": len(fds), "mono": time.monotonic_ns() // 1000}), flush=True)
`;

/** A real AF_UNIX SOCK_DGRAM socket standing in for systemd's notify socket. */
export interface NotifySocket {
  readonly path: string;
  /** Every datagram so far except systemd-notify's BARRIER=1, in arrival order. */
  readonly messages: NotifyDatagram[];
  /** Every datagram, barriers included. */
  readonly all: NotifyDatagram[];
  /** Resolves once at least `n` non-barrier datagrams arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Binds a notify socket in `dir` (keep `dir` short: a socket path has at most 107 bytes). */
export async function startNotifySocket(dir: string): Promise<NotifySocket> {
  const socketPath = path.join(dir, 'notify.sock');
  const child: ChildProcess = spawn(pythonBin(), ['-u', '-c', SERVER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const all: NotifyDatagram[] = [];
  const messages: NotifyDatagram[] = [];
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`notify socket did not start: ${stderr}`)), 10_000);
    child.once('exit', (code) => reject(new Error(`notify socket server exited (${code}): ${stderr}`)));
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { listening?: string; data?: string; fds?: number; mono?: number };
      if (msg.listening) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const d: NotifyDatagram = { data: msg.data ?? '', fds: msg.fds ?? 0, monoUsec: BigInt(msg.mono ?? 0) };
      all.push(d);
      if (d.data !== 'BARRIER=1') messages.push(d);
    });
  });
  return {
    path: socketPath,
    messages,
    all,
    async waitFor(n, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > end) throw new Error(`expected ${n} datagrams, got ${messages.length}: ${JSON.stringify(messages.map((m) => m.data))}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
