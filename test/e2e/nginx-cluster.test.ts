/**
 * The example deployment end to end, as an operator would run it: deploy/run-cluster.sh
 * starts PostgreSQL, three instances and nginx (deploy/nginx.conf) on free loopback ports.
 * Through nginx two people register, one opens a WebSocket and the other sends a message;
 * the socket receives it although the two were served by different instances (each
 * instance's own /metrics says which). Then `stop` leaves no process behind.
 *
 * Without nginx the test is reported as skipped with the reason, except under CI (`CI`
 * set), where it fails: .ci/run installs nginx.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Message, Room } from '../../src/shared/protocol.js';
import type { SearchPage } from '../../src/shared/search-shapes.js';
import { TEST_PASSWORD } from '../support/factories.js';
import { isMessageId } from '../support/frames.js';
import { call, cookieFrom } from '../support/http.js';
import { parsePrometheus, value } from '../support/prometheus.js';
import { connectWs, type WsClient } from '../support/ws-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'deploy/run-cluster.sh');

async function findNginx(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'nginx');
    try {
      await fs.access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const nginx = await findNginx();
const missing = nginx ? undefined : 'nginx is not installed (Debian: apt-get install nginx; .ci/run installs it)';
const skip = missing !== undefined && !process.env.CI;
if (skip) console.warn(`[nginx-cluster] skipping the nginx example: ${missing}`);

/** Distinct free loopback ports (all held at once while choosing, so none repeats). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

interface Run {
  code: number | null;
  output: string;
}

/** Runs `run-cluster.sh <command>`; resolves with its exit code and everything it printed. */
function cluster(command: 'start' | 'stop', env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT, command], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[test] run-cluster.sh ${command} did not finish within ${timeoutMs} ms; killed`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

interface Proc {
  pid: number;
  command: string;
}

/**
 * Every live process of the cluster: those whose command line or environment names its
 * folder (PostgreSQL's -D, nginx's -p, the instances' DATA_DIR), and all their descendants.
 * Zombies are dead already (only not yet reaped by their new parent) and do not count.
 */
async function clusterProcesses(dir: string): Promise<Proc[]> {
  const all = new Map<number, { ppid: number; state: string; command: string; ours: boolean }>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      const environ = await fs.readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
      all.set(Number(entry), { ppid: Number(ppid), state: state!, command, ours: command.includes(dir) || environ.includes(dir) });
    } catch {
      /* ended while we looked */
    }
  }
  const ours = new Set([...all].filter(([, p]) => p.ours).map(([pid]) => pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of all) {
      if (!ours.has(pid) && ours.has(p.ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  return [...ours].filter((pid) => pid !== process.pid && all.get(pid)!.state !== 'Z').map((pid) => ({ pid, command: all.get(pid)!.command }));
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Person {
  cookie: string;
  csrfToken: string;
}

describe.skipIf(skip)(skip ? `the nginx example deployment (skipped: ${missing})` : 'the nginx example deployment', { timeout: 120_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  let base: string;
  let instancePorts: number[];
  let allPorts: number[];
  let started = false;
  let stopped = false;
  const sockets: WsClient[] = [];

  async function logs(): Promise<string> {
    const folder = path.join(dir, 'logs');
    const names = await fs.readdir(folder).catch(() => [] as string[]);
    const parts = await Promise.all(names.map(async (name) => `--- ${name} (tail) ---\n${(await fs.readFile(path.join(folder, name), 'utf8')).split('\n').slice(-15).join('\n')}`));
    return parts.join('\n');
  }

  async function signUp(username: string): Promise<Person> {
    const register = await call(base, 'POST', '/api/v1/auth/register', {
      body: { username, email: `${username}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
    });
    expect(register.status, register.text).toBe(201);
    const login = await call<{ csrfToken: string }>(base, 'POST', '/api/v1/auth/login', { body: { username, password: TEST_PASSWORD, rememberMe: false } });
    expect(login.status).toBe(200);
    return { cookie: cookieFrom(login), csrfToken: login.body.csrfToken };
  }

  /** Each instance's own metrics, scraped directly from this host (as Prometheus would). */
  async function scrapeInstances() {
    return Promise.all(
      instancePorts.map(async (port) => {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(response.status).toBe(200);
        return parsePrometheus(await response.text());
      }),
    );
  }

  beforeAll(async () => {
    if (missing) throw new Error(`nginx is required under CI but ${missing}`);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'securechat-cluster-'));
    allPorts = await freePorts(5);
    const [pgPort, nginxPort, ...rest] = allPorts as [number, number, ...number[]];
    instancePorts = rest;
    base = `http://127.0.0.1:${nginxPort}`;
    env = { CLUSTER_DIR: dir, PG_PORT: String(pgPort), NGINX_PORT: String(nginxPort), INSTANCE_PORTS: instancePorts.join(' ') };
    if (nginx) env.NGINX_BIN = nginx;
    const run = await cluster('start', env, 150_000);
    started = true;
    if (run.code !== 0) throw new Error(`run-cluster.sh start failed (exit ${run.code}):\n${run.output}\n${await logs()}`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    if (started && !stopped) await cluster('stop', env, 60_000);
    if (dir) await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }, 90_000);

  it('a WebSocket through nginx receives a message sent through nginx to another instance', async () => {
    const alice = await signUp(`alice_${randomUUID().slice(0, 8)}`);
    const bob = await signUp(`bob_${randomUUID().slice(0, 8)}`);
    const rooms = (await (await fetch(`${base}/api/v1/rooms`, { headers: { cookie: alice.cookie } })).json()) as Room[];
    const general = rooms.find((room) => room.name === 'General')!;

    // Bob's socket, through nginx (Upgrade passed on; Origin checked against X-Forwarded-Host).
    const socket = await connectWs(base, { cookie: bob.cookie }, 10_000);
    sockets.push(socket);
    const withSocket = (await scrapeInstances()).map((families) => value(families, 'securechat_websocket_connections'));
    expect(withSocket.filter((n) => n === 1), `open sockets per instance: ${withSocket}`).toHaveLength(1);
    const socketInstance = withSocket.indexOf(1);

    const response = await fetch(`${base}/api/v1/rooms/${general.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: alice.cookie, 'x-csrf-token': alice.csrfToken },
      body: JSON.stringify({ body: 'hello through nginx', clientId: randomUUID() }),
    });
    expect(response.status).toBe(201);
    const { message } = (await response.json()) as { message: Message };
    const frame = await socket.waitFor(isMessageId(message.id), { timeoutMs: 10_000 });
    expect(frame).toMatchObject({ type: 'message', message: { body: 'hello through nginx', roomId: general.id } });

    // Which instance did what: the send on one, the frame written by another.
    const after = await scrapeInstances();
    const sent = after.map((families) => value(families, 'securechat_messages_sent_total'));
    const delivered = after.map((families) => value(families, 'securechat_messages_delivered_total'));
    const access = await fs.readFile(path.join(dir, 'logs/nginx-access.log'), 'utf8').catch(() => '');
    expect(sent.filter((n) => n === 1), `messages sent per instance: ${sent}\n${access}`).toHaveLength(1);
    const sendInstance = sent.indexOf(1);
    expect(sendInstance, `the send and the socket landed on the same instance (:${instancePorts[sendInstance]})\n${access}`).not.toBe(socketInstance);
    expect(delivered[socketInstance]).toBe(1);
    // It crossed from one instance to the other over LISTEN/NOTIFY, and was timed.
    expect(value(after[socketInstance]!, 'securechat_bus_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(after[socketInstance]!, 'securechat_message_delivery_seconds_count')).toBe(1);

    // A search through nginx finds it (once the instance's index is built), and nginx's log keeps its path, not the words.
    await vi.waitFor(
      async () => {
        const found = await fetch(`${base}/api/v1/search?q=${encodeURIComponent('hello through ngi')}`, { headers: { cookie: alice.cookie } });
        expect(((await found.json()) as SearchPage).results.map((result) => result.message.id)).toEqual([message.id]);
      },
      { timeout: 15_000, interval: 200 },
    );
    await vi.waitFor(async () => expect(await fs.readFile(path.join(dir, 'logs/nginx-access.log'), 'utf8')).toContain('"GET /api/v1/search HTTP/1.1"'), { timeout: 5_000 });
    expect(await fs.readFile(path.join(dir, 'logs/nginx-access.log'), 'utf8')).not.toContain('through');
  });

  it('nginx keeps /metrics to the instances and refuses bodies over the app\'s 64 KiB', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(403);
    const big = await fetch(`${base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x'.repeat(70 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('stop ends every process start began, and frees every port', async () => {
    const running = await clusterProcesses(dir);
    const pidFiles = await fs.readdir(path.join(dir, 'pids'));
    expect(pidFiles.sort()).toEqual(['instance-1.pid', 'instance-2.pid', 'instance-3.pid', 'nginx.pid', 'postgres.pid']);
    for (const file of pidFiles) {
      const pid = Number((await fs.readFile(path.join(dir, 'pids', file), 'utf8')).trim());
      expect(running.map((p) => p.pid), `${file}: ${pid}`).toContain(pid);
    }
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));

    const run = await cluster('stop', env, 60_000);
    stopped = true;
    expect(run.code, run.output).toBe(0);
    expect(await clusterProcesses(dir), 'processes left running').toEqual([]);
    for (const port of allPorts) expect(await portOpen(port), `port ${port} still open`).toBe(false);
    // Safe to repeat.
    expect((await cluster('stop', env, 30_000)).code).toBe(0);
  });
});
