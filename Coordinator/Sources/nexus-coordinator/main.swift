import ArgumentParser
import Hummingbird
import NexusCoordinator
import NexusHardware
import NexusMQTT
import NexusKube
import NexusPolicy
import NexusStore
import NexusFleet
import Foundation

@main
struct NexusCoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus-coordinator",
        abstract: "Keeps a live model of the NexusGrid fleet from its MQTT feed and serves placement hints.",
        discussion: "HTTP: the Kubernetes scheduler extender at /scheduler/filter and /scheduler/prioritize, "
            + "the fleet at /v1/nodes and per-node hints at /v1/hints (docs/coordinator.md). "
            + "Every answer comes from memory; the feed runs on its own thread.")

    @Option(help: "The fleet's broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT].")
    var broker: String

    @Option(help: "HOST:PORT to serve HTTP on.")
    var listen: String = "127.0.0.1:9480"

    @Option(help: "mqtts: the broker's CA (pinned).")
    var ca: String?

    @Option(help: "mqtts: this coordinator's client certificate.")
    var cert: String?

    @Option(help: "mqtts: the certificate's private key.")
    var key: String?

    @Option(help: "MQTT client id.")
    var clientId: String = "nexus-coordinator"

    @Flag(help: "Keep nexusgrid.io/ labels and NoSchedule taints on the Kubernetes nodes (needs --kubeconfig or --in-cluster).")
    var labelNodes = false

    @Option(help: "A kubeconfig for the Kubernetes API (its current context).")
    var kubeconfig: String?

    @Flag(help: "Use the pod's service account for the Kubernetes API.")
    var inCluster = false

    @Option(help: "The power policy: off, or dry-run (decides and records in /v1/decisions, acts on nothing).")
    var policy: String = "off"

    @Option(help: "A node the policy never puts to sleep (control-plane, etcd, opted out); repeatable.")
    var protect: [String] = []

    @Option(help: "The policy never leaves fewer awake nodes than this.")
    var minAwake: Int = 2

    @Option(help: "SQLite file for the inventory, decisions and energy history (default: $STATE_DIRECTORY/coordinator.sqlite under systemd, else ./nexus-coordinator.sqlite; :memory: keeps nothing).")
    var database: String?

    @Option(help: "Seconds between saves of the model to the database.")
    var saveInterval: Int = 10

    func run() async throws {
        guard let url = BrokerURL(broker) else {
            throw ValidationError("--broker '\(broker)' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--listen '\(listen)' is not HOST:PORT")
        }
        let host = String(listen[..<colon])
        var settings = MQTTSettings(broker: url, clientID: clientId)
        settings.caFile = ca
        settings.certFile = cert
        settings.keyFile = key
        if url.tls, ca == nil { throw ValidationError("mqtts:// needs --ca: the broker's CA is pinned") }
        let dbPath = database ?? ProcessInfo.processInfo.environment["STATE_DIRECTORY"].map { "\($0)/coordinator.sqlite" }
            ?? "nexus-coordinator.sqlite"
        let db: FleetDatabase
        do { db = try FleetDatabase(path: dbPath) } catch { throw ValidationError("\(error)") }
        guard (1...3600).contains(saveInterval) else { throw ValidationError("--save-interval must be 1-3600 seconds") }
        let history: [Decision]
        let remembered: [NodeRecord]
        do {
            history = try db.decisions()
            remembered = try db.loadNodes()
        } catch { throw ValidationError("\(error)") }
        var power: PolicyRunner?
        switch policy {
        case "off": break
        case "dry-run":
            var s = PolicySettings()
            s.mode = .dryRun
            s.protected = Set(protect)
            guard minAwake >= 1 else { throw ValidationError("--min-awake must be at least 1") }
            s.minAwake = minAwake
            power = PolicyRunner(settings: s, history: history)
        case "on":
            throw ValidationError("--policy on: acting on decisions (drain, signed sleep and wake) is not built yet; use dry-run")
        default:
            throw ValidationError("--policy '\(policy)' is not off or dry-run")
        }
        var marker: NodeMarker?
        if labelNodes {
            let creds: KubeCredentials
            do {
                if inCluster { creds = try KubeCredentials.inCluster() } else if let kubeconfig {
                    creds = try KubeCredentials.kubeconfig(path: kubeconfig)
                } else {
                    throw ValidationError("--label-nodes needs --kubeconfig FILE or --in-cluster")
                }
            } catch let e as KubeConfigError { throw ValidationError("Kubernetes: \(e)") }
            do { marker = NodeMarker(client: try KubeClient(credentials: creds)) } catch { throw ValidationError("\(error)") }
        }
        let logger = NexusHardware.Logger(label: "nexus-coordinator")
        let store = FleetStore()
        store.restore(remembered)
        logger.info("database", ["path": dbPath, "nodes": "\(remembered.count)", "decisions": "\(history.count)"])
        let feed = FeedThread(settings: settings, store: store, logger: logger)
        do { try feed.start() } catch { throw ValidationError("MQTT: \(error)") }
        if let marker {
            logger.info("labelling nodes", ["api": marker.client.credentials.server])
            // Off the request path: a slow API server delays labels, never an extender answer.
            Task.detached {
                while !Task.isCancelled {
                    for r in store.snapshot().nodes.values.sorted(by: { $0.name < $1.name }) {
                        switch await marker.reconcile(r) {
                        case .patched: logger.info("node marks updated", ["node": r.name, "state": r.state])
                        case .failed(let why): logger.warning("node marks not updated", ["node": r.name, "error": why])
                        case .unchanged, .notInCluster: break
                        }
                    }
                    try? await Task.sleep(for: .seconds(10))
                }
            }
        }
        if let power {
            logger.info("power policy", ["mode": power.settings.mode.rawValue, "protected": protect.joined(separator: ","),
                                         "min_awake": "\(minAwake)"])
            Task.detached {
                while !Task.isCancelled {
                    let decisions = power.step(store.snapshot(), nowMs: SystemClock.wallMilliseconds)
                    for d in decisions {
                        logger.notice(d.acted ? "decision" : "decision (dry run: not acted on)",
                                      ["node": d.node, "action": d.action.rawValue, "reason": d.reason])
                    }
                    do { try db.record(decisions) } catch { logger.error("\(error)") }
                    try? await Task.sleep(for: .seconds(10))
                }
            }
        }
        // The model to disk every few seconds, a power reading per node every minute.
        let interval = saveInterval
        Task.detached {
            var lastEnergy: Int64 = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                let nodes = Array(store.snapshot().nodes.values)
                let now = SystemClock.wallMilliseconds
                do {
                    try db.save(nodes: nodes)
                    if now - lastEnergy >= 60_000 {
                        try db.sampleEnergy(nodes, atMs: now)
                        lastEnergy = now
                    }
                } catch {
                    logger.error("\(error)")
                }
            }
        }
        let app = Application(router: HTTPAPI.router(store: store, power: power, now: { SystemClock.wallMilliseconds }),
                              configuration: .init(address: .hostname(host, port: port), serverName: "nexus-coordinator"))
        logger.info("serving", ["listen": listen, "broker": url.description])
        try await app.runService()
    }
}
