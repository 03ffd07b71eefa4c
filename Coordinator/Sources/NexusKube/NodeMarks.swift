public import NexusWire
public import NexusFleet

/// The labels and taints NexusGrid keeps on a Kubernetes node. Everything lives under
/// `nexusgrid.io/`; labels and taints with any other key are never written.
public struct NodeMarks: Equatable, Sendable {
    public static let prefix = "nexusgrid.io/"
    public var labels: [String: String]
    /// key → effect (value empty).
    public var taints: [String: String]

    public init(labels: [String: String] = [:], taints: [String: String] = [:]) {
        self.labels = labels
        self.taints = taints
    }

    /// What a node should carry: its state, board and wake method as labels; NoSchedule
    /// while draining, asleep, waking or within `minHeadroom` of throttling.
    public static func desired(for r: NodeRecord, minHeadroomCelsius: Double = 5) -> NodeMarks {
        var m = NodeMarks()
        m.labels[prefix + "state"] = r.state
        if !r.board.isEmpty { m.labels[prefix + "board"] = r.board }
        m.labels[prefix + "wake-method"] = r.wakeMethod
        if r.state == "draining" { m.taints[prefix + "draining"] = "NoSchedule" }
        if r.state == "waking" { m.taints[prefix + "waking"] = "NoSchedule" }
        // Asleep: kept off it before the node controller notices it is gone (40 s or more).
        if r.state == "sleeping" { m.taints[prefix + "sleeping"] = "NoSchedule" }
        if let h = r.thermalHeadroom, h < minHeadroomCelsius { m.taints[prefix + "hot"] = "NoSchedule" }
        return m
    }

    /// The merge patch that brings `node` (as the API server returned it) to these marks,
    /// or nil when it already carries them. Our labels are set or removed one by one
    /// (null); the taint list is replaced as a whole, so it is rebuilt from the node's
    /// own taints without ours plus ours, and sent with the node's resourceVersion: a
    /// concurrent change to the taints makes the API server refuse (409) rather than lose it.
    public func mergePatch(against node: JSONValue) -> JSONValue? {
        var labelPatch: [(String, JSONValue)] = []
        let current: [(String, JSONValue)] = {
            if case .object(let l)? = node["metadata"]?["labels"] { return l }
            return []
        }()
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) where current.first(where: { $0.0 == k })?.1.stringValue != v {
            labelPatch.append((k, .string(v)))
        }
        for (k, _) in current where k.hasPrefix(Self.prefix) && labels[k] == nil {
            labelPatch.append((k, .null))
        }
        let existing = node["spec"]?["taints"]?.arrayValue ?? []
        let foreign = existing.filter { !($0["key"]?.stringValue ?? "").hasPrefix(Self.prefix) }
        let ours = existing.filter { ($0["key"]?.stringValue ?? "").hasPrefix(Self.prefix) }
        let oursNow = Dictionary(ours.compactMap { t in t["key"]?.stringValue.map { ($0, t["effect"]?.stringValue ?? "") } },
                                 uniquingKeysWith: { a, _ in a })
        let taintsChange = oursNow != taints
        guard !labelPatch.isEmpty || taintsChange else { return nil }
        var metadata: [(String, JSONValue)] = []
        if !labelPatch.isEmpty { metadata.append(("labels", .object(labelPatch))) }
        var patch: [(String, JSONValue)] = []
        if taintsChange {
            if let rv = node["metadata"]?["resourceVersion"] { metadata.append(("resourceVersion", rv)) }
            let mine: [JSONValue] = taints.sorted(by: { $0.key < $1.key }).map {
                .object([("key", .string($0.key)), ("effect", .string($0.value))])
            }
            patch.append(("spec", .object([("taints", .array(foreign + mine))])))
        }
        if !metadata.isEmpty { patch.insert(("metadata", .object(metadata)), at: 0) }
        return .object(patch)
    }
}

/// Brings each known node's labels and taints to what the fleet model says, one node at a
/// time, patching only what differs. Meant to run every few seconds off the request path.
public struct NodeMarker: Sendable {
    public let client: KubeClient
    public var minHeadroomCelsius: Double = 5

    public init(client: KubeClient) { self.client = client }

    public enum Outcome: Equatable, Sendable {
        case unchanged, patched, notInCluster, failed(String)
    }

    public func reconcile(_ r: NodeRecord) async -> Outcome {
        let node: JSONValue
        do { node = try await client.getNode(r.name) } catch {
            // A NexusGrid node that is not a Kubernetes node (yet) is not an error.
            return error.status == 404 ? .notInCluster : .failed(error.description)
        }
        guard let patch = NodeMarks.desired(for: r, minHeadroomCelsius: minHeadroomCelsius).mergePatch(against: node) else {
            return .unchanged
        }
        do {
            _ = try await client.patchNode(r.name, mergePatch: patch)
            return .patched
        } catch {
            return .failed(error.description)
        }
    }
}
