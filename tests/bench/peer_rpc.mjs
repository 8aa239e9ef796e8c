// peer-rpc: the Node peer of evgate's throughput benchmark — an OCPP 1.6J central system as a
// Node developer would build it on npm's ocpp-rpc, answering the benchmark's messages and
// writing each one to SQLite with better-sqlite3.
//
//   node peer_rpc.mjs --port P --db FILE [--commit batch|each]
//
// Ready when it prints "peer-rpc listening port=P" on stderr (P = 0: any free port, the one
// taken is printed); SIGTERM/SIGINT close every connection, commit what is pending, print what
// it served and exit 0.
//
// Why it is a fair peer for evgate-gateway:
// - It does the same work per message: ocpp-rpc's strictMode validates every CALL against the
//   OCPP 1.6 JSON schemas (and every answer before it goes out), as evgate validates with its
//   own; each BootNotification, Heartbeat, StatusNotification and MeterValues is stored.
// - It keeps the same promise: an answer leaves only after its row is committed. With the
//   default --commit batch, the rows of one turn of Node's event loop go in one transaction
//   (group commit, as evgate's writer thread does); --commit each is the naive one-commit-per-
//   message handler, for comparison.
// - Same SQLite settings as evgate: WAL, synchronous=NORMAL, one prepared INSERT per table.
// - It is not hobbled: library defaults otherwise (ocpp-rpc's 30 s keep-alive pings, as a
//   developer would ship it), no logging per message, no authentication work (every client is
//   accepted, as bench-peer-bare does; evgate checks a password per handshake, not per message).
// What it does not do: anything beyond the four actions (others get NotImplemented), OCPP 2.0.1,
// more than one CPU core (Node runs JavaScript on one thread; SQLite runs there too).
import { parseArgs } from 'node:util';
import { RPCServer, createRPCError } from 'ocpp-rpc';
import Database from 'better-sqlite3';

const usage = 'usage: node peer_rpc.mjs --port P --db FILE [--commit batch|each]';
let opts;
try {
    opts = parseArgs({
        options: {
            port: { type: 'string' },
            db: { type: 'string' },
            commit: { type: 'string', default: 'batch' },
        },
    }).values;
} catch (e) {
    console.error(`peer-rpc: ${e.message}\n${usage}`);
    process.exit(2);
}
const port = Number(opts.port);
if (opts.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535 || !opts.db ||
    !['batch', 'each'].includes(opts.commit)) {
    console.error(usage);
    process.exit(2);
}

const db = new Database(opts.db);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
CREATE TABLE IF NOT EXISTS piles (
    pile TEXT PRIMARY KEY, vendor TEXT, model TEXT, firmware TEXT, booted_at TEXT,
    last_seen TEXT);
CREATE TABLE IF NOT EXISTS heartbeats (
    id INTEGER PRIMARY KEY, pile TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS status_notifications (
    id INTEGER PRIMARY KEY, pile TEXT NOT NULL, connector INTEGER NOT NULL, status TEXT NOT NULL,
    error_code TEXT NOT NULL, info TEXT, ts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meter_values (
    id INTEGER PRIMARY KEY, pile TEXT NOT NULL, connector INTEGER NOT NULL,
    transaction_id INTEGER, payload TEXT NOT NULL, ts TEXT NOT NULL);
`);

const insertBoot = db.prepare(`INSERT INTO piles (pile, vendor, model, firmware, booted_at,
    last_seen) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pile) DO UPDATE SET vendor = excluded.vendor,
    model = excluded.model, firmware = excluded.firmware, booted_at = excluded.booted_at,
    last_seen = excluded.last_seen`);
const insertHeartbeat = db.prepare('INSERT INTO heartbeats (pile, ts) VALUES (?, ?)');
const touchPile = db.prepare('UPDATE piles SET last_seen = ? WHERE pile = ?');
const insertStatus = db.prepare(`INSERT INTO status_notifications (pile, connector, status,
    error_code, info, ts) VALUES (?, ?, ?, ?, ?, ?)`);
const insertMeter = db.prepare(`INSERT INTO meter_values (pile, connector, transaction_id,
    payload, ts) VALUES (?, ?, ?, ?, ?)`);

// Each write is a function of no arguments that runs the INSERTs of one message.
const writes = {
    BootNotification: (pile, p, now) => () =>
        insertBoot.run(pile, p.chargePointVendor, p.chargePointModel, p.firmwareVersion ?? null,
            now, now),
    Heartbeat: (pile, p, now) => () => {
        insertHeartbeat.run(pile, now);
        touchPile.run(now, pile);
    },
    StatusNotification: (pile, p, now) => () =>
        insertStatus.run(pile, p.connectorId, p.status, p.errorCode, p.info ?? null,
            p.timestamp ?? now),
    MeterValues: (pile, p, now) => () =>
        insertMeter.run(pile, p.connectorId, p.transactionId ?? null,
            JSON.stringify(p.meterValue), p.meterValue[0]?.timestamp ?? now),
};

// Group commit: the writes that arrive in one turn of the event loop are committed together
// after the loop has read its sockets (setImmediate), then their answers are released.
let pending = [];
let flushScheduled = false;
const commitAll = db.transaction((batch) => {
    for (const w of batch)
        w.write();
});
function flush() {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    try {
        commitAll(batch);
    } catch (e) {
        for (const w of batch)
            w.reject(createRPCError('InternalError', 'database write failed'));
        return;
    }
    stats.commits++;
    for (const w of batch)
        w.resolve();
}
function persist(write) {
    if (opts.commit === 'each') {
        db.transaction(write)(); // better-sqlite3 is synchronous: committed when it returns
        stats.commits++;
        return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
        pending.push({ write, resolve, reject });
        if (!flushScheduled) {
            flushScheduled = true;
            setImmediate(flush);
        }
    });
}

const stats = { connections: 0, peak: 0, total: 0, calls: {}, commits: 0 };
const currentTime = () => new Date().toISOString();
const answers = {
    BootNotification: (now) => ({ status: 'Accepted', currentTime: now, interval: 60 }),
    Heartbeat: (now) => ({ currentTime: now }),
    StatusNotification: () => ({}),
    MeterValues: () => ({}),
};

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
server.auth((accept) => accept()); // every pile is welcome (an Authorization header is ignored)
server.on('client', (client) => {
    stats.total++;
    if (++stats.connections > stats.peak)
        stats.peak = stats.connections;
    client.once('close', () => stats.connections--);
    for (const [action, answer] of Object.entries(answers)) {
        client.handle(action, async ({ params }) => {
            const now = currentTime();
            await persist(writes[action](client.identity, params, now));
            stats.calls[action] = (stats.calls[action] ?? 0) + 1;
            return answer(now);
        });
    }
    client.handle(() => {
        throw createRPCError('NotImplemented');
    });
});
server.on('error', (e) => console.error(`peer-rpc: server error: ${e.message}`));

let httpServer;
try {
    httpServer = await server.listen(port, '127.0.0.1');
} catch (e) {
    console.error(`peer-rpc: cannot listen on 127.0.0.1:${port}: ${e.message}`);
    process.exit(1);
}
console.error(`peer-rpc listening port=${httpServer.address().port} commit=${opts.commit}`);

let stopping = false;
async function stop() {
    if (stopping)
        return;
    stopping = true;
    // A pile that does not answer the close handshake must not hold the exit for long.
    const force = setTimeout(() => server.close({ force: true }), 5000);
    await server.close({ code: 1001, reason: 'peer-rpc stopping' });
    clearTimeout(force);
    if (pending.length)
        flush();
    db.close();
    const calls = Object.entries(stats.calls).map(([a, n]) => `${a}=${n}`).join(' ');
    console.error(`peer-rpc stopped connections_peak=${stats.peak} ` +
        `connections_total=${stats.total} commits=${stats.commits} ${calls}`);
    process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
