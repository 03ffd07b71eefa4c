internal import GRDB
public import NexusFleet
public import NexusPolicy

/// The coordinator's SQLite file: nodes (inventory, last known state, learned energy
/// model), decisions, and an energy history (watts per node over time). Written off the
/// request path; read at start so that a restart loses nothing.
public final class FleetDatabase: Sendable {
    private let queue: DatabaseQueue
    public let path: String

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    public init(path: String) throws(Failure) {
        self.path = path
        do {
            queue = try DatabaseQueue(path: path)
            try Self.migrator.migrate(queue)
        } catch {
            throw Failure(message: "database \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE node (
                  name TEXT PRIMARY KEY NOT NULL, state TEXT NOT NULL, board TEXT NOT NULL, version TEXT NOT NULL,
                  wake_method TEXT NOT NULL, wake_via TEXT, wakes TEXT NOT NULL, last_seen_ms INTEGER NOT NULL,
                  throttle_c REAL, halted_w REAL,
                  model_idle_w REAL, model_w_per_load REAL, model_p00 REAL, model_p01 REAL, model_p11 REAL,
                  model_forgetting REAL, model_samples INTEGER);
                CREATE TABLE decision (
                  id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, node TEXT NOT NULL,
                  action TEXT NOT NULL, reason TEXT NOT NULL, acted INTEGER NOT NULL);
                CREATE TABLE energy (
                  node TEXT NOT NULL, at_ms INTEGER NOT NULL, watts REAL NOT NULL, PRIMARY KEY (node, at_ms));
                """)
        }
        m.registerMigration("v2: wake routes in decisions, node capacity") { db in
            try db.execute(sql: """
                ALTER TABLE decision ADD COLUMN via TEXT; ALTER TABLE decision ADD COLUMN method TEXT;
                ALTER TABLE node ADD COLUMN capacity REAL NOT NULL DEFAULT 1;
                """)
        }
        return m
    }

    /// Upserts every node (called every few seconds with the model).
    public func save(nodes: [NodeRecord]) throws(Failure) {
        do {
            try queue.write { db in
                for r in nodes {
                    let m = r.energy?.saved
                    try db.execute(sql: """
                        INSERT INTO node VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(name) DO UPDATE SET state = excluded.state, board = excluded.board,
                          version = excluded.version, wake_method = excluded.wake_method, wake_via = excluded.wake_via,
                          wakes = excluded.wakes, last_seen_ms = excluded.last_seen_ms, throttle_c = excluded.throttle_c,
                          halted_w = excluded.halted_w, model_idle_w = excluded.model_idle_w,
                          model_w_per_load = excluded.model_w_per_load, model_p00 = excluded.model_p00,
                          model_p01 = excluded.model_p01, model_p11 = excluded.model_p11,
                          model_forgetting = excluded.model_forgetting, model_samples = excluded.model_samples,
                          capacity = excluded.capacity
                        """, arguments: [r.name, r.state, r.board, r.version, r.wakeMethod, r.wakeVia,
                                         r.wakes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","), r.lastSeenMs, r.throttleCelsius, r.haltedWatts,
                                         m?.idleWatts, m?.wattsPerLoad, m?.p00, m?.p01, m?.p11, m?.forgetting, m?.samples, r.capacity])
                }
            }
        } catch {
            throw Failure(message: "saving nodes: \(error)")
        }
    }

    public func loadNodes() throws(Failure) -> [NodeRecord] {
        do {
            return try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM node ORDER BY name").map { row in
                    var r = NodeRecord(name: row["name"])
                    r.state = row["state"]
                    r.board = row["board"]
                    r.version = row["version"]
                    r.wakeMethod = row["wake_method"]
                    r.wakeVia = row["wake_via"]
                    let wakes: String = row["wakes"]
                    // target=method pairs; a bare name (an older file) has no method.
                    for item in wakes.split(separator: ",") {
                        let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        r.wakes[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                    }
                    r.lastSeenMs = row["last_seen_ms"]
                    r.throttleCelsius = row["throttle_c"]
                    r.haltedWatts = row["halted_w"]
                    r.capacity = row["capacity"]
                    if let idle: Double = row["model_idle_w"], let slope: Double = row["model_w_per_load"],
                       let p00: Double = row["model_p00"], let p01: Double = row["model_p01"], let p11: Double = row["model_p11"],
                       let f: Double = row["model_forgetting"], let n: Int = row["model_samples"] {
                        r.energy = EnergyModel(saved: .init(idleWatts: idle, wattsPerLoad: slope, p00: p00, p01: p01, p11: p11,
                                                            forgetting: f, samples: n))
                    }
                    return r
                }
            }
        } catch {
            throw Failure(message: "loading nodes: \(error)")
        }
    }

    public func record(_ decisions: [Decision]) throws(Failure) {
        guard !decisions.isEmpty else { return }
        do {
            try queue.write { db in
                for d in decisions {
                    try db.execute(sql: "INSERT INTO decision (at_ms, node, action, reason, acted, via, method) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   arguments: [d.atMs, d.node, d.action.rawValue, d.reason, d.acted, d.via, d.method])
                }
            }
        } catch {
            throw Failure(message: "recording decisions: \(error)")
        }
    }

    /// The newest `limit` decisions, newest last.
    public func decisions(limit: Int = 500) throws(Failure) -> [Decision] {
        do {
            return try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM decision ORDER BY id DESC LIMIT ?) ORDER BY id",
                                 arguments: [limit]).compactMap { row in
                    guard let action = Decision.Action(rawValue: row["action"]) else { return nil }
                    return Decision(atMs: row["at_ms"], node: row["node"], action: action, reason: row["reason"], acted: row["acted"],
                                    via: row["via"], method: row["method"])
                }
            }
        } catch {
            throw Failure(message: "loading decisions: \(error)")
        }
    }

    /// One power reading per node (called once a minute): the history behind fleet charts
    /// and energy accounting.
    public func sampleEnergy(_ nodes: [NodeRecord], atMs: Int64) throws(Failure) {
        do {
            try queue.write { db in
                for r in nodes {
                    guard let w = r.watts, r.state != "offline" else { continue }
                    try db.execute(sql: "INSERT OR REPLACE INTO energy VALUES (?, ?, ?)", arguments: [r.name, atMs, w])
                }
            }
        } catch {
            throw Failure(message: "saving energy history: \(error)")
        }
    }

    /// Energy in watt-hours between two times from the history: each reading holds until
    /// the next one (or `toMs`).
    public func energyWh(node: String, fromMs: Int64, toMs: Int64) throws(Failure) -> Double {
        do {
            let rows = try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT at_ms, watts FROM energy WHERE node = ? AND at_ms < ? ORDER BY at_ms",
                                 arguments: [node, toMs])
            }
            var wh = 0.0
            for (i, row) in rows.enumerated() {
                let at: Int64 = row["at_ms"], w: Double = row["watts"]
                let next: Int64 = i + 1 < rows.count ? rows[i + 1]["at_ms"] : toMs
                let start = max(at, fromMs), end = min(next, toMs)
                if end > start { wh += w * Double(end - start) / 3_600_000 }
            }
            return wh
        } catch {
            throw Failure(message: "reading energy history: \(error)")
        }
    }
}
