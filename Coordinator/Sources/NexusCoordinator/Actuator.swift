public import NexusPolicy
public import NexusFleet
public import NexusCrypto
public import NexusHardware
internal import NexusWire

/// The key the coordinator signs commands with, and the name the agents know it by
/// (their `commands.public_keys`).
public struct CommandKey: Sendable {
    public var name: String
    public var privateKey: Ed25519.PrivateKey
    public init(name: String, privateKey: Ed25519.PrivateKey) {
        self.name = name
        self.privateKey = privateKey
    }
}

/// Carries out what the policy decided (`--policy on`): a wake is a signed `wake` to the
/// agent on the route the policy chose; a sleep is, in order, the Kubernetes drain (when
/// there is a cluster: nothing is touched unless every pod may move), a signed `sleep`
/// (the agent starts draining), and once the agent says `draining`, a second `sleep`,
/// its go-ahead to power off. Every step is logged; a sleep that cannot go ahead is
/// given up and recorded, and the node stays in service.
public final class Actuator: Sendable {
    public typealias Drain = @Sendable (NodeRecord) async -> String?
    public typealias Undo = @Sendable (NodeRecord) async -> Void

    let key: CommandKey
    let publish: @Sendable (String, [UInt8]) -> Void
    let store: FleetStore
    let runner: PolicyRunner
    let drain: Drain?
    let undo: Undo?
    let record: @Sendable ([Decision]) -> Void
    let logger: NexusHardware.Logger
    let now: @Sendable () -> Int64
    /// How long the agent has to say `draining` after the first `sleep`.
    let agentAnswerMs: Int64

    /// `drain` returns nil when the node's pods have moved, else why not (the node is
    /// then left as it was); `undo` lifts the cordon when the agent does not follow.
    public init(key: CommandKey, publish: @escaping @Sendable (String, [UInt8]) -> Void, store: FleetStore,
                runner: PolicyRunner, drain: Drain? = nil, undo: Undo? = nil,
                record: @escaping @Sendable ([Decision]) -> Void, logger: NexusHardware.Logger,
                now: @escaping @Sendable () -> Int64, agentAnswerMs: Int64 = 30_000) {
        self.key = key
        self.publish = publish
        self.store = store
        self.runner = runner
        self.drain = drain
        self.undo = undo
        self.record = record
        self.logger = logger
        self.now = now
        self.agentAnswerMs = agentAnswerMs
    }

    /// Sends one signed command; false if it could not be signed.
    @discardableResult
    func send(_ verb: String, to node: String, _ payload: [(String, JSONValue)] = []) -> Bool {
        guard let c = SignedCommand.issue(node: node, verb: verb, payload: payload, key: key.name,
                                          privateKey: key.privateKey, timestampMs: now()) else {
            logger.error("could not sign a command (no randomness?)", ["verb": verb, "node": node])
            return false
        }
        publish(FeedTopic.command(node, verb), Array(c.json.serialized().utf8))
        logger.notice("command sent", ["verb": verb, "node": node, "id": c.id ?? "?", "key": key.name])
        return true
    }

    public func carryOut(_ decisions: [Decision]) {
        for d in decisions where d.acted {
            switch d.action {
            case .wake:
                guard let via = d.via else { continue }
                send("wake", to: via, [("target", .string(d.node))])
            case .sleep:
                Task { await self.sleep(d.node) }
            case .alert:
                logger.error("alert", ["node": d.node, "reason": d.reason])
            case .timeout, .aborted:
                break
            }
        }
    }

    func sleep(_ node: String) async {
        guard let r = store.snapshot(raw: true).nodes[node] else { return give(up: node, "no longer known") }
        if let drain {
            logger.notice("draining", ["node": node])
            if let why = await drain(r) { return give(up: node, why) }
        }
        guard send("sleep", to: node) else { return give(up: node, "could not sign the command", undo: r) }
        let start = now()
        while now() - start < agentAnswerMs {
            if let s = store.snapshot(raw: true).nodes[node]?.state, s == "draining" || s == "sleeping" {
                // The agent is listening; the pods are gone: its go-ahead.
                send("sleep", to: node)
                return
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        give(up: node, "the agent did not start draining within \(agentAnswerMs / 1000) s of a signed sleep "
             + "(does it trust key '\(key.name)'? see its command-rejected events)", undo: r)
    }

    func give(up node: String, _ why: String, undo r: NodeRecord? = nil) {
        if let r, let undo { Task { await undo(r) } }
        logger.warning("sleep given up", ["node": node, "reason": why])
        if let d = runner.abortSleep(node, reason: why, nowMs: now(), store: store) { record([d]) }
    }
}
