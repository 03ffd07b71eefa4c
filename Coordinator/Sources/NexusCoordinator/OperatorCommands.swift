public import NexusCrypto
public import NexusHardware
public import NexusPolicy
internal import NexusFleet
public import NexusWire
internal import Synchronization

/// Commands an operator sends through the coordinator's API (`nexusctl`). Every one is an
/// envelope signed with the coordinator's own command key (docs/commands.md), checked
/// here for signature, age and replay before anything happens, and logged:
/// - identify, relay, reboot: passed on to the agent unchanged (the agent checks it again);
/// - sleep, wake: the envelope authorises the coordinator to do it its way: the same
///   safety rules, the Kubernetes drain, its own signed commands on the best wake route,
///   recorded with the policy's decisions. The API itself therefore needs no other
///   credential: without the key, nothing can be asked of it.
public final class OperatorCommands: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var body: JSONValue
    }

    let verifier: Mutex<CommandVerifier>
    let keyName: String
    let store: FleetStore
    let runner: PolicyRunner
    let actuator: Actuator
    let publish: @Sendable (String, [UInt8]) -> Void
    let record: @Sendable ([Decision]) -> Void
    let logger: NexusHardware.Logger
    let now: @Sendable () -> Int64

    public static let forwarded: Set<String> = ["identify", "relay", "reboot"]
    public static let carriedOut: Set<String> = ["sleep", "wake"]

    public init?(key: CommandKey, store: FleetStore, runner: PolicyRunner, actuator: Actuator,
                 publish: @escaping @Sendable (String, [UInt8]) -> Void, record: @escaping @Sendable ([Decision]) -> Void,
                 logger: NexusHardware.Logger, now: @escaping @Sendable () -> Int64) {
        guard let pub = key.privateKey.publicKey else { return nil }
        verifier = Mutex(CommandVerifier(keys: [key.name: pub]))
        keyName = key.name
        self.store = store
        self.runner = runner
        self.actuator = actuator
        self.publish = publish
        self.record = record
        self.logger = logger
        self.now = now
    }

    /// `POST /v1/nodes/NODE/commands/VERB` with the envelope as the body.
    public func handle(node: String, verb: String, body: [UInt8]) -> Answer {
        func refuse(_ status: Int, _ why: String, _ fields: [(String, JSONValue)] = []) -> Answer {
            logger.warning("operator command refused", ["node": node, "verb": verb, "reason": why])
            return Answer(status: status, body: .object([("error", .string(why))] + fields))
        }
        guard Self.forwarded.contains(verb) || Self.carriedOut.contains(verb) else {
            return refuse(404, "unknown verb '\(verb)': identify, relay, reboot, sleep or wake")
        }
        guard store.snapshot(raw: true).nodes[node] != nil else {
            return refuse(404, "\(node) is not a node the coordinator knows")
        }
        let topic = FeedTopic.command(node, verb)
        let command: SignedCommand
        do throws(CommandRejection) {
            (command, _) = try verifier.withLock { v throws(CommandRejection) in try v.verify(topic: topic, message: body, nowMs: now()) }
        } catch {
            let status: Int = switch error {
            case .malformed, .badCommand: 400
            case .replayed: 409
            default: 403
            }
            var why = error.description
            if case .unknownKey = error { why += " (this coordinator signs with '\(keyName)')" }
            if case .stale = error { why += " (are this machine's and the coordinator's clocks in step?)" }
            return refuse(status, why, [("reason", .string(error.reason))])
        }
        let id = command.id ?? ""
        if Self.forwarded.contains(verb) {
            // Taken before it goes out: the agent's answer can be back before this returns.
            let at = now()
            publish(topic, body)
            logger.notice("operator command passed on", ["node": node, "verb": verb, "id": id, "key": command.key])
            return Answer(status: 202, body: .object([("id", .string(id)), ("node", .string(node)), ("verb", .string(verb)),
                                                      ("forwarded", .bool(true)), ("at_ms", .int(at))]))
        }
        let action: Decision.Action = verb == "sleep" ? .sleep : .wake
        let d: Decision
        do throws(PowerPolicy.Refusal) {
            d = try runner.request(action, node: node, by: "an operator (key \(command.key), id \(id))", store: store, nowMs: now())
        } catch {
            return refuse(409, error.reason)
        }
        logger.notice("operator \(verb)", ["node": node, "id": id, "reason": d.reason])
        record([d])
        actuator.carryOut([d])
        var fields: [(String, JSONValue)] = [("id", .string(id)), ("node", .string(node)), ("verb", .string(verb)),
                                             ("reason", .string(d.reason)), ("at_ms", .int(d.atMs))]
        if let via = d.via { fields += [("via", .string(via)), ("method", .string(d.method ?? ""))] }
        return Answer(status: 202, body: .object(fields))
    }
}
