public import NexusWire
public import NexusHardware

/// Turns signed MQTT commands into agent requests. Nothing is executed before the
/// envelope verifies; every rejection is logged and answered on the event topic.
public struct CommandHandler: Sendable {
    public enum Request: Equatable, Sendable {
        case identify(Duration)
        case relay(channel: String, action: String)
        case sleep
        case reboot
        case wake(String)
    }

    public struct Outcome: Equatable, Sendable {
        public var event: String
        public var fields: [EventPayload.EventField]
        public var request: Request?
    }

    public let node: String
    private var verifier: CommandVerifier

    public init(node: String, verifier: CommandVerifier) {
        self.node = node
        self.verifier = verifier
    }

    public static let verbs = ["identify", "relay", "sleep", "reboot", "wake"]

    /// Checks one message; returns the event to publish and, when accepted, the request.
    public mutating func handle(topic: String, message: [UInt8], nowMs: Int64, logger: Logger) -> Outcome {
        let prefix = FeedTopic.command(node, "")
        let verb = topic.hasPrefix(prefix) ? String(topic.dropFirst(prefix.count)) : ""
        func reject(_ r: CommandRejection, id: String? = nil) -> Outcome {
            logger.warning("command rejected", ["verb": verb, "reason": r.reason, "detail": r.description])
            var f: [EventPayload.EventField] = [.init("verb", verb), .init("reason", r.reason), .init("detail", r.description)]
            if let id { f.insert(.init("id", id), at: 0) }
            return Outcome(event: "command-rejected", fields: f, request: nil)
        }
        let command: SignedCommand
        let payload: JSONValue
        do throws(CommandRejection) {
            (command, payload) = try verifier.verify(topic: topic, message: message, nowMs: nowMs)
        } catch {
            return reject(error)
        }
        guard let id = payload["id"]?.stringValue, !id.isEmpty, id.utf8.count <= 64 else {
            return reject(.badCommand("payload needs an \"id\" string (1-64 bytes)"))
        }
        let request: Request
        switch verb {
        case "identify":
            let seconds = payload["seconds"]?.intValue ?? 10
            guard (1...3600).contains(seconds) else { return reject(.badCommand("seconds must be 1-3600"), id: id) }
            request = .identify(.seconds(seconds))
        case "relay":
            guard let channel = payload["channel"]?.stringValue, let action = payload["action"]?.stringValue,
                  ["on", "off", "cycle"].contains(action) else {
                return reject(.badCommand("relay needs \"channel\" and \"action\": on, off or cycle"), id: id)
            }
            request = .relay(channel: channel, action: action)
        case "sleep": request = .sleep
        case "reboot": request = .reboot
        case "wake":
            guard let target = payload["target"]?.stringValue else { return reject(.badCommand("wake needs \"target\""), id: id) }
            request = .wake(target)
        default:
            return reject(.badCommand("unknown verb '\(verb)'"), id: id)
        }
        logger.notice("command accepted", ["verb": verb, "id": id, "key": command.key])
        return Outcome(event: "command-accepted", fields: [.init("id", id), .init("verb", verb), .init("key", command.key)],
                       request: request)
    }
}
