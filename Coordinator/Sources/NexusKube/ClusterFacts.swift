public import NexusWire

/// What the Kubernetes API says that the feed cannot: which nodes must never sleep and
/// how many pods wait for room. Read every few seconds, off the request path.
public struct ClusterReader: Sendable {
    public let client: KubeClient
    public init(client: KubeClient) { self.client = client }

    /// Node annotations that keep a node awake: cluster-autoscaler's own opt-out, and ours.
    public static let optOut = [("cluster-autoscaler.kubernetes.io/scale-down-disabled", "true"),
                                ("nexusgrid.io/sleep-disabled", "true")]

    /// node → why it must stay awake: a control-plane or etcd member (a K3s HA cluster
    /// has three; sleeping one leaves no margin, two lose quorum), or opted out.
    public static func protected(_ nodes: [JSONValue]) -> [String: String] {
        var out: [String: String] = [:]
        for n in nodes {
            guard let name = n["metadata"]?["name"]?.stringValue else { continue }
            let labels = n["metadata"]?["labels"]
            if labels?["node-role.kubernetes.io/etcd"] != nil {
                out[name] = "etcd member"
            } else if labels?["node-role.kubernetes.io/control-plane"] != nil || labels?["node-role.kubernetes.io/master"] != nil {
                out[name] = "control-plane node"
            } else if let (k, v) = optOut.first(where: { n["metadata"]?["annotations"]?[$0.0]?.stringValue == $0.1 }) {
                out[name] = "opted out (\(k): \"\(v)\")"
            }
        }
        return out
    }

    /// Pods the scheduler tried and could not place (PodScheduled False, Unschedulable):
    /// a pod merely not scheduled yet is not a reason to wake a node.
    public static func unschedulable(_ pods: [JSONValue]) -> Int {
        pods.filter { pod in
            (pod["status"]?["conditions"]?.arrayValue ?? []).contains {
                $0["type"]?.stringValue == "PodScheduled" && $0["status"]?.stringValue == "False"
                    && $0["reason"]?.stringValue == "Unschedulable"
            }
        }.count
    }

    public func read() async throws(KubeError) -> (protected: [String: String], pendingPods: Int) {
        let nodes = try await client.listNodes()
        let pending = try await client.listPods(fieldSelector: "status.phase=Pending")
        return (Self.protected(nodes), Self.unschedulable(pending))
    }
}
