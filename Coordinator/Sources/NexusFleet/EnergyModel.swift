/// A node's power as a straight line in its CPU utilisation, learned online from its
/// telemetry: watts = idle + perLoad × utilisation (utilisation 0...1 of all cores).
/// Recursive least squares with a forgetting factor, started from the board file's
/// figures as a prior worth `priorWeight` samples, so that a node that has only ever
/// idled still has a sensible slope and a new node is ranked by its board until it has
/// shown otherwise.
public struct EnergyModel: Equatable, Sendable {
    public private(set) var idleWatts: Double
    public private(set) var wattsPerLoad: Double
    public private(set) var samples: Int = 0
    /// The inverse information matrix of the two parameters (symmetric 2×2).
    private var p00: Double, p01: Double, p11: Double
    public let forgetting: Double

    public init(priorIdleWatts: Double, priorMaxWatts: Double, priorWeight: Double = 20, forgetting: Double = 0.999) {
        idleWatts = priorIdleWatts
        wattsPerLoad = max(0, priorMaxWatts - priorIdleWatts)
        // A prior worth priorWeight samples spread over the load range: P = (XᵀX)⁻¹ for
        // half of them at load 0 and half at load 1.
        let n = max(priorWeight, 1)
        let a = n, b = n / 2, c = n / 2          // XᵀX = [[n, n/2], [n/2, n/2]]
        let det = a * c - b * b
        p00 = c / det
        p01 = -b / det
        p11 = a / det
        self.forgetting = forgetting
    }

    /// One telemetry sample: total watts at this utilisation.
    public mutating func learn(watts: Double, utilisation: Double) {
        guard watts.isFinite, utilisation.isFinite, watts >= 0, (0...1.0001).contains(utilisation) else { return }
        let x0 = 1.0, x1 = min(utilisation, 1)
        // k = P x / (λ + xᵀ P x)
        let px0 = p00 * x0 + p01 * x1
        let px1 = p01 * x0 + p11 * x1
        let denom = forgetting + x0 * px0 + x1 * px1
        let k0 = px0 / denom, k1 = px1 / denom
        let error = watts - (idleWatts * x0 + wattsPerLoad * x1)
        idleWatts += k0 * error
        wattsPerLoad += k1 * error
        // P = (P - k xᵀ P) / λ
        p00 = (p00 - k0 * px0) / forgetting
        p01 = (p01 - k0 * px1) / forgetting
        p11 = (p11 - k1 * px1) / forgetting
        samples += 1
    }

    public func watts(atUtilisation u: Double) -> Double { idleWatts + wattsPerLoad * min(max(u, 0), 1) }

    /// Everything the model has learned, to store and restore it exactly.
    public struct Saved: Equatable, Sendable {
        public var idleWatts, wattsPerLoad, p00, p01, p11, forgetting: Double
        public var samples: Int
        public init(idleWatts: Double, wattsPerLoad: Double, p00: Double, p01: Double, p11: Double, forgetting: Double, samples: Int) {
            self.idleWatts = idleWatts
            self.wattsPerLoad = wattsPerLoad
            self.p00 = p00
            self.p01 = p01
            self.p11 = p11
            self.forgetting = forgetting
            self.samples = samples
        }
    }

    public var saved: Saved {
        Saved(idleWatts: idleWatts, wattsPerLoad: wattsPerLoad, p00: p00, p01: p01, p11: p11, forgetting: forgetting, samples: samples)
    }

    public init(saved s: Saved) {
        idleWatts = s.idleWatts
        wattsPerLoad = s.wattsPerLoad
        p00 = s.p00
        p01 = s.p01
        p11 = s.p11
        forgetting = s.forgetting
        samples = s.samples
    }
}
