public import NexusWire
public import NexusFleet

/// What a drain does with one pod, by cluster-autoscaler's rules (the trusted reference
/// for which pods may be moved off a node that is going away).
public enum PodVerdict: Equatable, Sendable {
    /// Left alone: a DaemonSet's or a static (mirror) pod, or one that has finished.
    case skip(String)
    /// Evicted through the Eviction API (a PodDisruptionBudget may still say not now).
    case evict
    /// Keeps the node awake.
    case blocks(String)

    public static let safeToEvict = "cluster-autoscaler.kubernetes.io/safe-to-evict"

    public static func of(_ pod: JSONValue) -> PodVerdict {
        let annotations = pod["metadata"]?["annotations"]
        if annotations?["kubernetes.io/config.mirror"] != nil { return .skip("static pod") }
        let owners = pod["metadata"]?["ownerReferences"]?.arrayValue ?? []
        let controller = owners.first { $0["controller"]?.boolValue == true }
        if controller?["kind"]?.stringValue == "DaemonSet" { return .skip("DaemonSet pod") }
        if let phase = pod["status"]?["phase"]?.stringValue, phase == "Succeeded" || phase == "Failed" {
            return .skip("finished (\(phase))")
        }
        switch annotations?[safeToEvict]?.stringValue {
        case "true": return .evict
        case "false": return .blocks("annotated \(safeToEvict): \"false\"")
        default: break
        }
        guard controller != nil else { return .blocks("not managed by a controller: evicted, it would not come back") }
        let volumes = pod["spec"]?["volumes"]?.arrayValue ?? []
        if let local = volumes.first(where: { $0["emptyDir"] != nil || $0["hostPath"] != nil }) {
            return .blocks("local storage (volume \(local["name"]?.stringValue ?? "?")) would be lost")
        }
        if pod["metadata"]?["namespace"]?.stringValue == "kube-system" {
            return .blocks("a kube-system pod (cluster-autoscaler does not move these without \(safeToEvict): \"true\")")
        }
        return .evict
    }
}

/// Cordons a node with NexusGrid's own taint and moves its pods off through the Eviction
/// API (policy/v1), which refuses what a PodDisruptionBudget forbids. Nothing happens to
/// the node unless every pod on it may move; a drain that cannot finish is undone.
public struct Drainer: Sendable {
    public let client: KubeClient
    /// How long to keep trying evictions a PDB refuses, and to wait for pods to go.
    public var timeoutMs: Int64 = 120_000
    public var retryMs: Int64 = 5_000

    public init(client: KubeClient) { self.client = client }

    public enum Outcome: Equatable, Sendable {
        /// Every movable pod is gone; the node stays cordoned.
        case drained(evicted: [String])
        /// Not started: a pod that cannot move (the node is untouched).
        case blocked(String)
        /// Started but could not finish; the cordon was lifted again.
        case failed(String)
    }

    func pods(on node: String) async throws(KubeError) -> [JSONValue] {
        try await client.listPods(fieldSelector: "spec.nodeName=\(node)")
    }

    func name(_ pod: JSONValue) -> String {
        "\(pod["metadata"]?["namespace"]?.stringValue ?? "?")/\(pod["metadata"]?["name"]?.stringValue ?? "?")"
    }

    public func drain(_ record: NodeRecord, now: @Sendable () -> Int64) async -> Outcome {
        let all: [JSONValue]
        do { all = try await pods(on: record.name) } catch { return .blocked(error.description) }
        for pod in all {
            if case .blocks(let why) = PodVerdict.of(pod) { return .blocked("\(name(pod)): \(why)") }
        }
        var draining = record
        draining.state = "draining"
        if let failure = await mark(draining) { return .blocked("cordon: \(failure)") }

        let start = now()
        var evicted: [String] = []
        var remaining = all.filter { PodVerdict.of($0) == .evict }
        var lastRefusal = ""
        while true {
            var still: [JSONValue] = []
            for pod in remaining {
                let ns = pod["metadata"]?["namespace"]?.stringValue ?? "", n = pod["metadata"]?["name"]?.stringValue ?? ""
                do {
                    try await client.evict(namespace: ns, pod: n)
                    evicted.append(name(pod))
                } catch where error.status == 404 {
                    evicted.append(name(pod)) // already gone
                } catch where error.status == 429 {
                    lastRefusal = "\(name(pod)): \(error.message)"
                    still.append(pod) // a PodDisruptionBudget says not now
                } catch {
                    await undo(record)
                    return .failed("evicting \(name(pod)): \(error)")
                }
            }
            remaining = still
            // Evicted pods terminate in their own time; the node is drained when only
            // pods the drain leaves alone are still on it.
            if remaining.isEmpty {
                let left: [JSONValue]
                do { left = try await pods(on: record.name).filter { !isSkipped($0) } } catch {
                    await undo(record)
                    return .failed("listing pods: \(error)")
                }
                if left.isEmpty { return .drained(evicted: evicted) }
                lastRefusal = "waiting for \(left.map(name).joined(separator: ", ")) to terminate"
            }
            guard now() - start < timeoutMs else {
                await undo(record)
                return .failed("not drained after \(timeoutMs / 1000) s: \(lastRefusal)")
            }
            try? await Task.sleep(for: .milliseconds(retryMs))
        }
    }

    func isSkipped(_ pod: JSONValue) -> Bool {
        if case .skip = PodVerdict.of(pod) { return true }
        return false
    }

    /// Lifts the cordon: the node's marks as its own state says.
    public func undo(_ record: NodeRecord) async {
        _ = await mark(record)
    }

    func mark(_ r: NodeRecord) async -> String? {
        let node: JSONValue
        do { node = try await client.getNode(r.name) } catch { return error.description }
        guard let patch = NodeMarks.desired(for: r).mergePatch(against: node) else { return nil }
        do { _ = try await client.patchNode(r.name, mergePatch: patch) } catch { return error.description }
        return nil
    }
}
