public import NexusPolicy
public import NexusYAML

/// Everything `nexus-coordinator` can be told, as read from its config file
/// (docs/coordinator.md has the full file); command-line options override it.
public struct CoordinatorConfig: Sendable, Equatable {
    public var broker: String?
    public var listen = "127.0.0.1:9480"
    public var ca: String?
    public var cert: String?
    public var key: String?
    public var clientID = "nexus-coordinator"
    public var database: String?
    public var saveIntervalS = 10
    // Kubernetes
    public var kubeconfig: String?
    public var inCluster = false
    public var labelNodes = false
    public var leaseNamespace: String?
    public var leaseName = "nexus-coordinator"
    public var leaseIdentity: String?
    // Commands
    public var commandKey: String?
    public var commandKeyName = "coordinator"
    // Policy
    public var policy = PolicySettings()
    public var policyIntervalS = 10
    public var drainTimeoutS = 120

    public init() {}

    public static func parse(_ text: String, file: String) throws(YAMLError) -> CoordinatorConfig {
        var c = CoordinatorConfig()
        guard let root = try YAML.parse(text, file: file) else { return c }
        let o = try YAMLObject(root, file: file, path: "")
        c.broker = try o.string("broker")
        c.listen = try o.string("listen") ?? c.listen
        c.clientID = try o.string("client_id") ?? c.clientID
        c.database = try o.string("database")
        c.saveIntervalS = try o.integer("save_interval_s", in: 1...3600) ?? c.saveIntervalS
        if let t = try o.object("tls") {
            c.ca = try t.string("ca")
            c.cert = try t.string("cert")
            c.key = try t.string("key")
            try t.finish()
        }
        if let k = try o.object("kubernetes") {
            c.kubeconfig = try k.string("kubeconfig")
            c.inCluster = try k.bool("in_cluster") ?? false
            if c.inCluster, c.kubeconfig != nil { throw k.error("in_cluster", "say kubeconfig or in_cluster, not both") }
            c.labelNodes = try k.bool("label_nodes") ?? false
            if let l = try k.object("lease") {
                c.leaseNamespace = try l.requiredString("namespace")
                c.leaseName = try l.string("name") ?? c.leaseName
                c.leaseIdentity = try l.string("identity")
                try l.finish()
            }
            try k.finish()
        }
        if let k = try o.object("commands") {
            c.commandKey = try k.requiredString("key")
            c.commandKeyName = try k.string("key_name") ?? c.commandKeyName
            try k.finish()
        }
        if let p = try o.object("policy") {
            var s = c.policy
            s.mode = try p.choice("mode", PolicySettings.Mode.allCases.map { ($0.rawValue, $0) }) ?? s.mode
            s.protected = Set(try p.strings("protect"))
            s.minAwake = try p.integer("min_awake", in: 1...10_000) ?? s.minAwake
            s.sleepBelow = try fraction(p, "sleep_below") ?? s.sleepBelow
            s.wakeAbove = try fraction(p, "wake_above") ?? s.wakeAbove
            s.idleBelow = try fraction(p, "idle_below") ?? s.idleBelow
            guard s.sleepBelow < s.wakeAbove else {
                throw p.error("wake_above", "must be above sleep_below (\(s.sleepBelow)), or the policy would flap")
            }
            s.sleepHoldMs = try ms(p, "sleep_hold_s") ?? s.sleepHoldMs
            s.wakeHoldMs = try ms(p, "wake_hold_s") ?? s.wakeHoldMs
            s.cooldownAfterWakeMs = try ms(p, "cooldown_after_wake_s") ?? s.cooldownAfterWakeMs
            s.staleMs = try ms(p, "stale_s", min: 1) ?? s.staleMs
            s.transitionTimeoutMs = try ms(p, "sleep_timeout_s", min: 1) ?? s.transitionTimeoutMs
            s.wakeAttemptTimeoutMs = try ms(p, "wake_attempt_timeout_s", min: 1) ?? s.wakeAttemptTimeoutMs
            s.unwakeableForMs = try ms(p, "unwakeable_for_s") ?? s.unwakeableForMs
            c.policyIntervalS = try p.integer("interval_s", in: 1...600) ?? c.policyIntervalS
            c.drainTimeoutS = try p.integer("drain_timeout_s", in: 1...3600) ?? c.drainTimeoutS
            try p.finish()
            c.policy = s
        }
        try o.finish()
        return c
    }

    static func fraction(_ o: YAMLObject, _ key: String) throws(YAMLError) -> Double? {
        guard let v = try o.number(key) else { return nil }
        guard (0...1).contains(v) else { throw o.error(key, "must be between 0 and 1 (a utilisation)") }
        return v
    }

    static func ms(_ o: YAMLObject, _ key: String, min: Int = 0) throws(YAMLError) -> Int64? {
        try o.integer(key, in: min...86_400).map { Int64($0) * 1000 }
    }
}
