public import NexusWire
public import NexusFleet

/// The Kubernetes scheduler extender (k8s.io/kube-scheduler/extender/v1). The scheduler
/// POSTs `ExtenderArgs` {Pod, Nodes, NodeNames} as JSON with Go's field names; filter
/// answers `ExtenderFilterResult` {Nodes, NodeNames, FailedNodes,
/// FailedAndUnresolvableNodes, Error}, prioritize a `HostPriorityList` of {Host, Score}
/// with scores 0...MaxExtenderPriority. The nodes are kept as the JSON they came in, so
/// that a filtered `Nodes` list gives the scheduler back its own objects unchanged.
public enum Extender {
    public static let maxPriority: Int64 = 10
    /// Bodies above this are refused (a NodeList of a few hundred nodes is well below it).
    public static let maxBodyBytes = 8 * 1024 * 1024

    public struct Args: Sendable {
        public var podName: String?
        public var podNamespace: String?
        /// `Nodes.items` as sent (nodeCacheCapable: false), else nil.
        public var nodes: [JSONValue]?
        /// `NodeNames` (nodeCacheCapable: true), else nil.
        public var nodeNames: [String]?

        public init(podName: String? = nil, podNamespace: String? = nil, nodes: [JSONValue]? = nil, nodeNames: [String]? = nil) {
            self.podName = podName
            self.podNamespace = podNamespace
            self.nodes = nodes
            self.nodeNames = nodeNames
        }

        /// The candidate names, from whichever form was sent.
        public var candidates: [String] {
            nodeNames ?? (nodes ?? []).map { $0["metadata"]?["name"]?.stringValue ?? "" }
        }
    }

    public struct BadRequest: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func parseArgs(_ body: [UInt8]) throws(BadRequest) -> Args {
        let json: JSONValue
        do { json = try JSONParser.parse(body, maxBytes: maxBodyBytes, maxDepth: 64) } catch {
            throw BadRequest(message: "ExtenderArgs: \(error)")
        }
        guard case .object = json else { throw BadRequest(message: "ExtenderArgs: expected a JSON object") }
        var a = Args()
        a.podName = json["Pod"]?["metadata"]?["name"]?.stringValue
        a.podNamespace = json["Pod"]?["metadata"]?["namespace"]?.stringValue
        if let nodes = json["Nodes"], nodes != .null {
            let itemsValue = nodes["items"] ?? .null
            let items: [JSONValue]
            if itemsValue == .null {
                items = []
            } else if let list = itemsValue.arrayValue {
                items = list
            } else {
                throw BadRequest(message: "ExtenderArgs: Nodes.items must be a list of nodes")
            }
            for (i, n) in items.enumerated() where n["metadata"]?["name"]?.stringValue?.isEmpty ?? true {
                throw BadRequest(message: "ExtenderArgs: Nodes.items[\(i)] has no metadata.name")
            }
            a.nodes = items
        }
        if let names = json["NodeNames"], names != .null {
            guard let list = names.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw BadRequest(message: "ExtenderArgs: NodeNames must be a list of strings")
            }
            a.nodeNames = list.compactMap(\.stringValue)
        }
        guard a.nodes != nil || a.nodeNames != nil else {
            throw BadRequest(message: "ExtenderArgs: neither Nodes nor NodeNames was given")
        }
        return a
    }

    public struct Policy: Sendable {
        /// Telemetry older than this makes a node stale (3 of the agent's default 5 s
        /// samples, and some).
        public var staleAfterMs: Int64 = 20_000
        /// Below this many degrees of thermal headroom a node takes no new pods.
        public var minHeadroomCelsius: Double = 5
        public init() {}
    }

    /// Why a node must not take the pod, or nil if it may. A node the fleet does not
    /// know has no agent: it is not ours to judge, and passes.
    public static func refusal(_ r: NodeRecord?, policy: Policy, nowMs: Int64, feedIsFresh: Bool) -> String? {
        guard let r else { return nil }
        switch r.state {
        case "sleeping": return "nexusgrid: node is asleep"
        case "draining": return "nexusgrid: node is draining before sleep"
        case "waking": return "nexusgrid: node is waking up"
        case "fault": return "nexusgrid: node reports a fault" + (r.faults.isEmpty ? "" : ": " + r.faults.joined(separator: "; "))
        case "offline": return "nexusgrid: node's agent is offline"
        default: break
        }
        // Staleness only counts while the coordinator's own feed is working: if it is the
        // one that lost the broker, every node would look stale and nothing could run.
        if feedIsFresh, nowMs - r.lastSeenMs > policy.staleAfterMs {
            return "nexusgrid: no telemetry for \((nowMs - r.lastSeenMs) / 1000) s"
        }
        if let h = r.thermalHeadroom, h < policy.minHeadroomCelsius {
            return "nexusgrid: \(Int(h.rounded())) °C from throttling (needs \(Int(policy.minHeadroomCelsius)))"
        }
        return nil
    }

    /// The filter answer as JSON: passing nodes in the form they came in.
    public static func filter(_ args: Args, fleet: [String: NodeRecord], policy: Policy, nowMs: Int64,
                              feedIsFresh: Bool) -> JSONValue {
        var failed: [(String, JSONValue)] = []
        var keep: [String] = []
        for name in args.candidates {
            if let why = refusal(fleet[name], policy: policy, nowMs: nowMs, feedIsFresh: feedIsFresh) {
                failed.append((name, .string(why)))
            } else {
                keep.append(name)
            }
        }
        // The set is only needed when the scheduler sent whole Node objects (not names).
        let nodes: JSONValue = args.nodes.map { items in
            let passing = Set(keep)
            return .object([("metadata", .object([])),
                     ("items", .array(items.filter { passing.contains($0["metadata"]?["name"]?.stringValue ?? "") }))])
        } ?? .null
        let names: JSONValue = args.nodeNames != nil ? .array(keep.map { .string($0) }) : .null
        // Preempting pods cannot wake, cool or refresh a node: every refusal is unresolvable.
        return .object([("Nodes", nodes), ("NodeNames", names), ("FailedNodes", .object([])),
                        ("FailedAndUnresolvableNodes", .object(failed)), ("Error", .string(""))])
    }

    /// The marginal cost of more work on a node: the watts its energy model adds per unit
    /// of work (per unit of utilisation, over the board's capacity relative to a Pi 4B),
    /// raised as it nears throttling (a hot SoC clocks down and needs longer for the same
    /// work). nil when the node has no model.
    public static func marginalCost(_ r: NodeRecord) -> Double? {
        guard let perWork = r.wattsPerWork else { return nil }
        var cost = max(perWork, 0.01)
        if let h = r.thermalHeadroom, h < 15 { cost *= 1 + (15 - max(h, 0)) / 15 }
        return cost
    }

    /// Scores 0...10: the cheapest marginal energy gets 10, the dearest 0; a node without a
    /// model (no agent, or a board we do not know) gets 0 and so is used last.
    public static func prioritize(_ args: Args, fleet: [String: NodeRecord]) -> JSONValue {
        let names = args.candidates
        let costs = names.map { fleet[$0].flatMap(marginalCost) }
        let known = costs.compactMap { $0 }
        let lo = known.min() ?? 0, hi = known.max() ?? 0
        let list: [JSONValue] = zip(names, costs).map { name, cost in
            var score: Int64 = 0
            if let cost {
                score = hi - lo < 1e-9 ? maxPriority : Int64((Double(maxPriority) * (hi - cost) / (hi - lo)).rounded())
            }
            return .object([("Host", .string(name)), ("Score", .int(score))])
        }
        return .array(list)
    }

    /// What the scheduler gets when the request itself is unusable: an ExtenderFilterResult
    /// whose Error it logs.
    public static func filterError(_ message: String) -> JSONValue {
        .object([("Nodes", .null), ("NodeNames", .null), ("FailedNodes", .object([])),
                 ("FailedAndUnresolvableNodes", .object([])), ("Error", .string(message))])
    }
}
