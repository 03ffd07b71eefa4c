public import NexusBoards
public import NexusHardware

/// Takes samples: power meters, hwmon through libsensors (or the simulation), /proc.
/// Keeps the previous CPU counters so utilisation covers the time between samples.
public final class Sampler {
    public let devices: NodeDevices
    public let node: String
    private let proc: ProcFS
    private let logger: Logger
    private var lastCPU: CPUTimes?

    public init(devices: NodeDevices, node: String, proc: ProcFS = ProcFS(), logger: Logger) {
        self.devices = devices
        self.node = node
        self.proc = proc
        self.logger = logger
    }

    /// Reads /proc/stat now so that the first sample already has a utilisation figure.
    public func prime() {
        lastCPU = try? proc.cpuTimes()
    }

    public func sample(now: Instant, wallMs: Int64) -> Sample {
        devices.simulation?.update(now: now)
        let hwmon = devices.hwmon?.readAll() ?? []

        let power = devices.meters.map { m -> Sample.Power in
            switch m.read(hwmon: hwmon) {
            case .success(let r):
                return Sample.Power(name: m.config.name, label: m.config.label, address: m.config.address,
                                    source: m.source, reading: r, error: nil)
            case .failure(let e):
                return Sample.Power(name: m.config.name, label: m.config.label, address: m.config.address,
                                    source: m.source, reading: nil, error: e.description)
            }
        }
        // INA219 chips read through hwmon are already in `power`; list the rest.
        let meterChips = Set(devices.meters.filter(\.viaHwmon).map { "\($0.bus)-\($0.config.address.rawValue)" })
        let rest = hwmon.filter { !(meterChips.contains("\($0.busNumber)-\($0.address)") && $0.bus == .i2c) }
        let temps = rest.filter { $0.kind == .temperature }.map {
            Sample.Temperature(chip: $0.chip, label: $0.label, celsius: $0.value, alarm: $0.alarm, error: $0.error)
        }

        var utilisation: Double?
        if let sim = devices.simulation, sim.loadIsSimulated { utilisation = sim.utilisation }
        do {
            let t = try proc.cpuTimes()
            if let last = lastCPU, utilisation == nil { utilisation = t.utilisation(since: last) }
            lastCPU = t
        } catch {
            logger.warning("cannot read CPU times", ["error": "\(error)"])
        }
        var s = Sample(board: devices.board.name, node: node, timestampMs: wallMs, power: power, temperatures: temps,
                       otherHwmon: rest.filter { $0.kind != .temperature }, cpuUtilisation: utilisation,
                       load: try? proc.loadAverage(), memory: try? proc.memory())
        if let g = devices.gpioFault { s.deviceFaults.append(g) }
        return s
    }
}
