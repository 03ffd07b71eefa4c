public import NexusHardware
#if canImport(Glibc)
internal import Glibc
#endif

/// The `sim` board's physics: node power follows the host's real CPU load, and a CPU
/// temperature follows power with a first-order lag.
public final class SimulatedNode: HwmonSource {
    public struct Parameters: Sendable {
        public var idleWatts: Double
        public var maxWatts: Double
        public var supplyVolts: Double
        public var ambientCelsius: Double
        /// Temperature rise at full load.
        public var fullLoadRiseCelsius: Double
        public var thermalTimeConstant: Duration

        public init(idleWatts: Double, maxWatts: Double, supplyVolts: Double = 5.1, ambientCelsius: Double = 30,
                    fullLoadRiseCelsius: Double = 35, thermalTimeConstant: Duration = .seconds(40)) {
            self.idleWatts = idleWatts
            self.maxWatts = maxWatts
            self.supplyVolts = supplyVolts
            self.ambientCelsius = ambientCelsius
            self.fullLoadRiseCelsius = fullLoadRiseCelsius
            self.thermalTimeConstant = thermalTimeConstant
        }
    }

    public let parameters: Parameters
    public let proc: ProcFS
    /// A file holding the node's utilisation (0-1), re-read at each update, in place of the
    /// host's CPU load: how a test or a simulated fleet gives each node a load of its own.
    public var loadFile: String?
    /// Whether the load came from `loadFile` (the sample then reports it as the CPU's).
    public private(set) var loadIsSimulated = false
    public private(set) var utilisation: Double = 0
    public private(set) var celsius: Double
    private var lastTimes: CPUTimes?
    private var lastUpdate: Instant?
    /// The temperature starts at the steady state of the first measured load, so a
    /// one-shot reading is plausible without minutes of warm-up.
    private var thermalStarted = false
    /// The INA219 models whose pins this node's power appears on, with their shunts.
    private var meters: [(model: Ina219Model, shuntOhms: Double)] = []

    public init(parameters: Parameters, proc: ProcFS = ProcFS()) {
        self.parameters = parameters
        self.proc = proc
        celsius = parameters.ambientCelsius
    }

    public func attach(_ model: Ina219Model, shuntOhms: Double) {
        meters.append((model, shuntOhms))
        apply()
    }

    public var watts: Double {
        parameters.idleWatts + (parameters.maxWatts - parameters.idleWatts) * utilisation
    }

    /// Reads /proc/stat and moves power and temperature to match.
    public func update(now: Instant) {
        var measured = false
        if let loadFile {
            let text = (try? readSmallFile(loadFile)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if let u = Double(text.filter { !$0.isWhitespace }), (0...1).contains(u) {
                utilisation = u
                measured = true
            }
            loadIsSimulated = measured
        } else if let t = try? proc.cpuTimes() {
            if let last = lastTimes, let u = t.utilisation(since: last) {
                utilisation = u
                measured = true
            }
            lastTimes = t
        }
        let target = parameters.ambientCelsius + parameters.fullLoadRiseCelsius * utilisation
        if !thermalStarted {
            celsius = target
            thermalStarted = measured
        } else if let lastUpdate {
            let dt = now.since(lastUpdate).seconds
            let tau = max(parameters.thermalTimeConstant.seconds, 0.001)
            // Exact step of dT/dt = (target - T) / tau over dt.
            let k = 1 - exp(-dt / tau)
            celsius += (target - celsius) * k
        }
        lastUpdate = now
        apply()
    }

    private func apply() {
        let volts = parameters.supplyVolts
        let amps = watts / volts
        for m in meters {
            m.model.busVolts = volts
            m.model.shuntVolts = amps * m.shuntOhms
        }
    }

    public func readAll() -> [HwmonReading] {
        [HwmonReading(chip: "cpu_thermal-virtual-0", prefix: "cpu_thermal", adapter: "Virtual device",
                      label: "temp1", feature: "temp1", bus: .virtual, kind: .temperature,
                      value: (celsius * 1000).rounded() / 1000)]
    }
}

