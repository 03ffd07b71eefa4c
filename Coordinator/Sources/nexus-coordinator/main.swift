import ArgumentParser
import Hummingbird
import NexusCoordinator
import NexusCrypto
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
        abstract: "Keeps a live model of the NexusGrid fleet from its MQTT feed, serves placement hints and runs the power policy.",
        discussion: """
            HTTP: the fleet page at /, the Kubernetes scheduler extender at /scheduler/filter and \
            /scheduler/prioritize, the fleet at /v1/nodes, per-node hints at /v1/hints, the policy at /v1/decisions, \
            power over the last hour at /v1/history, the agents' events at /v1/events, signed operator commands \
            (nexusctl) at /v1/nodes/NODE/commands/VERB, Prometheus at /metrics (docs/coordinator.md). Every answer comes from memory; the feed runs on its own thread.

            Settings come from --config FILE (YAML, docs/coordinator.md) and the options below; an option given \
            on the command line wins over the file.

            --policy on acts: it drains nodes through the Kubernetes Eviction API (with --kubeconfig or \
            --in-cluster), signs sleep and wake commands with --command-key, and with --lease-namespace only the \
            replica holding the Lease acts. With --command-key, in any mode, operators' commands signed with that \
            key (nexusctl) are checked and carried out.
            """)

    @Option(help: "A YAML config file with any of the settings below (docs/coordinator.md).")
    var config: String?

    @Option(help: "The fleet's broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT].")
    var broker: String?

    @Option(help: "HOST:PORT to serve HTTP on (default 127.0.0.1:9480).")
    var listen: String?

    @Option(help: "mqtts: the broker's CA (pinned).")
    var ca: String?

    @Option(help: "mqtts: this coordinator's client certificate.")
    var cert: String?

    @Option(help: "mqtts: the certificate's private key.")
    var key: String?

    @Option(help: "MQTT client id (default nexus-coordinator).")
    var clientId: String?

    @Flag(help: "Keep nexusgrid.io/ labels and NoSchedule taints on the Kubernetes nodes (needs --kubeconfig or --in-cluster).")
    var labelNodes = false

    @Option(help: "A kubeconfig for the Kubernetes API (its current context).")
    var kubeconfig: String?

    @Flag(help: "Use the pod's service account for the Kubernetes API.")
    var inCluster = false

    @Option(help: "Elect a leader with a Lease in this namespace; only the leader acts and patches nodes.")
    var leaseNamespace: String?

    @Option(help: "The power policy: off (default), dry-run (decides and records in /v1/decisions, acts on nothing), or on.")
    var policy: String?

    @Option(help: "A node the policy never puts to sleep; repeatable (control-plane and etcd nodes are found by themselves with a cluster).")
    var protect: [String] = []

    @Option(help: "The policy never leaves fewer awake nodes than this (default 2).")
    var minAwake: Int?

    @Option(help: "--policy on: the Ed25519 private key (PEM) the sleep and wake commands are signed with.")
    var commandKey: String?

    @Option(help: "The name the agents know that key by (their commands.public_keys; default coordinator).")
    var commandKeyName: String?

    @Option(help: "SQLite file for the inventory, decisions and energy history (default: $STATE_DIRECTORY/coordinator.sqlite under systemd, else ./nexus-coordinator.sqlite; :memory: keeps nothing).")
    var database: String?

    @Option(help: "Seconds between saves of the model to the database (default 10).")
    var saveInterval: Int?

    /// The file, then the command line over it.
    func settings() throws -> CoordinatorConfig {
        var c = CoordinatorConfig()
        if let config {
            let text: String
            do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
                throw ValidationError("--config \(config): cannot read it (\(error.localizedDescription))")
            }
            do { c = try CoordinatorConfig.parse(text, file: config) } catch { throw ValidationError("\(error)") }
        }
        c.broker = broker ?? c.broker
        c.listen = listen ?? c.listen
        c.ca = ca ?? c.ca
        c.cert = cert ?? c.cert
        c.key = key ?? c.key
        c.clientID = clientId ?? c.clientID
        c.labelNodes = labelNodes || c.labelNodes
        if kubeconfig != nil || inCluster {
            c.kubeconfig = kubeconfig
            c.inCluster = inCluster
        }
        c.leaseNamespace = leaseNamespace ?? c.leaseNamespace
        if let policy {
            guard let mode = PolicySettings.Mode(rawValue: policy) else { throw ValidationError("--policy '\(policy)' is not off, dry-run or on") }
            c.policy.mode = mode
        }
        c.policy.protected.formUnion(protect)
        if let minAwake {
            guard minAwake >= 1 else { throw ValidationError("--min-awake must be at least 1") }
            c.policy.minAwake = minAwake
        }
        c.commandKey = commandKey ?? c.commandKey
        c.commandKeyName = commandKeyName ?? c.commandKeyName
        c.database = database ?? c.database
        if let saveInterval {
            guard (1...3600).contains(saveInterval) else { throw ValidationError("--save-interval must be 1-3600 seconds") }
            c.saveIntervalS = saveInterval
        }
        return c
    }

    func run() async throws {
        let c = try settings()
        guard let brokerText = c.broker else { throw ValidationError("say which broker: --broker mqtt://HOST[:PORT] (or broker: in --config)") }
        guard let url = BrokerURL(brokerText) else {
            throw ValidationError("broker '\(brokerText)' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        }
        guard let colon = c.listen.lastIndex(of: ":"), let port = Int(c.listen[c.listen.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("listen '\(c.listen)' is not HOST:PORT")
        }
        let host = String(c.listen[..<colon])
        var mqtt = MQTTSettings(broker: url, clientID: c.clientID)
        mqtt.caFile = c.ca
        mqtt.certFile = c.cert
        mqtt.keyFile = c.key
        if url.tls, c.ca == nil { throw ValidationError("mqtts:// needs --ca: the broker's CA is pinned") }

        // Kubernetes, when configured.
        var kube: KubeClient?
        if c.inCluster || c.kubeconfig != nil {
            let creds: KubeCredentials
            do {
                creds = c.inCluster ? try KubeCredentials.inCluster() : try KubeCredentials.kubeconfig(path: c.kubeconfig ?? "")
            } catch { throw ValidationError("Kubernetes: \(error)") }
            do { kube = try KubeClient(credentials: creds) } catch { throw ValidationError("\(error)") }
        } else if c.labelNodes {
            throw ValidationError("--label-nodes needs --kubeconfig FILE or --in-cluster")
        } else if c.leaseNamespace != nil {
            throw ValidationError("leader election (--lease-namespace) needs --kubeconfig FILE or --in-cluster")
        }

        // What acting needs, checked before anything starts.
        var commandKey: CommandKey?
        if c.policy.mode == .on, c.commandKey == nil {
            throw ValidationError("--policy on signs sleep and wake commands: give --command-key FILE (an Ed25519 private key in PEM)")
        }
        // With a key, operators' signed commands (nexusctl) are taken in every policy mode.
        if let path = c.commandKey {
            guard let k = Ed25519.PrivateKey(pemFile: path) else {
                throw ValidationError("--command-key \(path) is not a readable Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)")
            }
            commandKey = CommandKey(name: c.commandKeyName, privateKey: k)
        }

        let dbPath = c.database ?? ProcessInfo.processInfo.environment["STATE_DIRECTORY"].map { "\($0)/coordinator.sqlite" }
            ?? "nexus-coordinator.sqlite"
        let db: FleetDatabase
        let history: [Decision]
        let remembered: [NodeRecord]
        do {
            db = try FleetDatabase(path: dbPath)
            history = try db.decisions()
            remembered = try db.loadNodes()
        } catch { throw ValidationError("\(error)") }

        let logger = NexusHardware.Logger(label: "nexus-coordinator")
        let store = FleetStore()
        store.restore(remembered)
        logger.info("database", ["path": dbPath, "nodes": "\(remembered.count)", "decisions": "\(history.count)"])
        let feed = FeedThread(settings: mqtt, store: store, logger: logger)
        do { try feed.start() } catch { throw ValidationError("MQTT: \(error)") }
        let now: @Sendable () -> Int64 = { SystemClock.wallMilliseconds }

        let elector: LeaseElector? = kube.flatMap { kube in
            c.leaseNamespace.map { ns in
                LeaseElector(client: kube, namespace: ns, name: c.leaseName,
                             identity: c.leaseIdentity ?? ProcessInfo.processInfo.hostName + "-" + String(getpid()))
            }
        }
        if let e = elector {
            let ns = e.namespace, identity = e.identity
            logger.info("leader election", ["lease": "\(ns)/\(c.leaseName)", "identity": identity])
            Task.detached {
                var leading = false
                while !Task.isCancelled {
                    let now = now()
                    let l = await e.tryAcquireOrRenew(nowMs: now)
                    if l != leading {
                        leading = l
                        logger.notice(l ? "leading: this replica acts" : "standing by", ["holder": e.status.holder ?? "none"])
                    }
                    if let err = e.status.error { logger.warning("lease", ["error": err]) }
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
        let leads: @Sendable () -> (Bool, String?) = {
            guard let elector else { return (true, nil) }
            return (elector.isLeader(nowMs: now()), elector.status.holder)
        }

        // Acting in a cluster keeps the node marks too: the cordon is the draining taint.
        if let kube, c.labelNodes || c.policy.mode == .on {
            let marker = NodeMarker(client: kube)
            logger.info("labelling nodes", ["api": kube.credentials.server])
            // Off the request path: a slow API server delays labels, never an extender answer.
            Task.detached {
                while !Task.isCancelled {
                    if leads().0 {
                        for r in store.snapshot().nodes.values.sorted(by: { $0.name < $1.name }) {
                            switch await marker.reconcile(r) {
                            case .patched: logger.info("node marks updated", ["node": r.name, "state": r.state])
                            case .failed(let why): logger.warning("node marks not updated", ["node": r.name, "error": why])
                            case .unchanged, .notInCluster: break
                            }
                        }
                    }
                    try? await Task.sleep(for: .seconds(10))
                }
            }
        }

        var power: PolicyRunner?
        var operatorCommands: OperatorCommands?
        if c.policy.mode != .off || commandKey != nil {
            let runner = PolicyRunner(settings: c.policy, history: history)
            power = runner
            let record: @Sendable ([Decision]) -> Void = { ds in
                for d in ds {
                    logger.notice(d.acted ? "decision" : "decision (dry run: not acted on)",
                                  ["node": d.node, "action": d.action.rawValue, "reason": d.reason])
                }
                do { try db.record(ds) } catch { logger.error("\(error)") }
            }
            var actuator: Actuator?
            if let commandKey {
                var drainer = kube.map { Drainer(client: $0) }
                drainer?.timeoutMs = Int64(c.drainTimeoutS) * 1000
                var drain: Actuator.Drain?
                var undo: Actuator.Undo?
                if let d = drainer {
                    drain = { r in
                        switch await d.drain(r, now: now) {
                        case .drained(let evicted):
                            logger.notice("drained", ["node": r.name, "evicted": evicted.joined(separator: ",")])
                            return nil
                        case .blocked(let why), .failed(let why):
                            return why
                        }
                    }
                    undo = { r in await d.undo(r) }
                }
                let a = Actuator(key: commandKey, publish: { feed.publish($0, $1) }, store: store, runner: runner,
                                 drain: drain, undo: undo, record: record, logger: logger, now: now)
                actuator = a
                operatorCommands = OperatorCommands(key: commandKey, store: store, runner: runner, actuator: a,
                                                    publish: { feed.publish($0, $1) }, record: record, logger: logger, now: now)
            }
            let reader = kube.map { ClusterReader(client: $0) }
            logger.info("power policy", ["mode": c.policy.mode.rawValue, "protected": c.policy.protected.sorted().joined(separator: ","),
                                         "min_awake": "\(c.policy.minAwake)", "kubernetes": kube == nil ? "no" : "yes"])
            let interval = c.policyIntervalS
            let act = actuator
            Task.detached {
                var cluster = ClusterFacts()
                var clusterError: String?
                while !Task.isCancelled {
                    if let reader {
                        do {
                            let r = try await reader.read()
                            cluster = ClusterFacts(pendingPods: r.pendingPods, protected: r.protected)
                            if clusterError != nil { logger.info("Kubernetes API answers again") }
                            clusterError = nil
                        } catch {
                            // Without the cluster's view the policy must not guess: an
                            // unknown control plane could be put to sleep.
                            if clusterError != "\(error)" { logger.warning("Kubernetes API", ["error": "\(error)"]) }
                            clusterError = "\(error)"
                        }
                    }
                    if let clusterError {
                        runner.pause("no decision: the Kubernetes API does not answer (\(clusterError))")
                    } else {
                        let decisions = runner.step(store, nowMs: now(), cluster: cluster, leader: leads())
                        record(decisions)
                        act?.carryOut(decisions)
                    }
                    try? await Task.sleep(for: .seconds(interval))
                }
            }
        }

        // The live power chart's points.
        let powerHistory = PowerHistory()
        let staleMs = c.policy.staleMs
        Task.detached {
            while !Task.isCancelled {
                powerHistory.record(store.snapshot(), nowMs: now(), staleAfterMs: staleMs)
                try? await Task.sleep(for: .milliseconds(powerHistory.intervalMs))
            }
        }

        // The model to disk every few seconds, a power reading per node every minute.
        let saveEvery = c.saveIntervalS
        Task.detached {
            var lastEnergy: Int64 = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(saveEvery))
                let nodes = Array(store.snapshot(raw: true).nodes.values)
                let t = now()
                do {
                    try db.save(nodes: nodes)
                    if t - lastEnergy >= 60_000 {
                        try db.sampleEnergy(nodes, atMs: t)
                        lastEnergy = t
                    }
                } catch {
                    logger.error("\(error)")
                }
            }
        }
        // Under systemd (Type=notify): ready once the HTTP server listens; the watchdog is
        // fed from the async runtime, so a wedged executor is restarted.
        if let watchdog = ServiceManager.watchdogInterval {
            Task.detached {
                while !Task.isCancelled {
                    ServiceManager.notify("WATCHDOG=1")
                    try? await Task.sleep(for: watchdog / 2)
                }
            }
        }
        let listenText = c.listen, mode = c.policy.mode.rawValue
        let app = Application(router: HTTPAPI.router(store: store, power: power, history: powerHistory, commands: operatorCommands, now: now),
                              configuration: .init(address: .hostname(host, port: port), serverName: "nexus-coordinator"),
                              onServerRunning: { _ in
                                  ServiceManager.notify("READY=1\nSTATUS=serving on \(listenText), policy \(mode)")
                              })
        logger.info("serving", ["listen": c.listen, "broker": url.description])
        // runService returns on SIGTERM or SIGINT (service-lifecycle): then a clean exit.
        try await app.runService()
        logger.info("stopping")
        ServiceManager.notify("STOPPING=1")
        do { try db.save(nodes: Array(store.snapshot(raw: true).nodes.values)) } catch { logger.error("\(error)") }
        if let elector { await elector.release(nowMs: now()) }
        feed.stop()
        await kube?.shutdown()
    }
}
