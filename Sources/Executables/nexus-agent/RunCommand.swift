import NexusAgent
import NexusBoards
import NexusHardware

let runSpec = CommandSpec(
    path: "run", usage: "run [--board NAME|FILE | --config FILE] [--node NAME] [--interval SECONDS] [--print-samples]",
    summary: "Run the agent: sample every sensor, drive the status LEDs, watch the button, until SIGTERM or SIGINT.",
    options: boardOptions + [
        OptionSpec(name: "node", value: "NAME", help: "This node's name (default: the config's, else the host name)."),
        OptionSpec(name: "interval", value: "SECONDS", help: "Sampling interval (default: the config's, else 5)."),
        OptionSpec(name: "print-samples", value: nil, help: "Write each sample to stdout as one line of JSON."),
        OptionSpec(name: "samples", value: "N", help: "Stop after N samples (for scripts and measurements)."),
        OptionSpec(name: "sensors-config", value: "FILE", help: "A sensors.conf for libsensors."),
    ],
    discussion: """
    A missing I2C bus, sensor or GPIO chip is reported as a fault in every sample and
    retried; the agent keeps running. A very long button press powers the node off
    through power_off_command (docs/configuration.md).
    Outputs start in their safe state (relays powered, LEDs dark) and return to it on
    SIGTERM/SIGINT; if the agent dies of a fatal signal a crash guard writes the same
    levels; if it is killed outright the kernel releases the lines (see docs/gpio.md for
    the wiring that keeps a released relay line powered).
    """)

func runCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    let setup = try makeSetup(args, spec: runSpec)
    var interval = setup.config.sampleInterval
    do {
        if let s = try args.number("interval", spec: runSpec, range: 0.1...3600) {
            interval = .milliseconds(Int64((s * 1000).rounded()))
        }
    } catch { throw .usage(error) }
    var limit: Int?
    if let n = args.value("samples") {
        guard let v = Int(n), v > 0 else { throw .usage(UsageError(message: "--samples: '\(n)' is not a positive whole number", command: "run")) }
        limit = v
    }
    var options = NodeDevices.Options()
    options.gpioOptional = true
    options.sensorsConfig = args.value("sensors-config") ?? setup.config.sensorsConfig
    let clock = SystemClock()
    let devices = try open(setup, options, clock)
    let sampler = Sampler(devices: devices, node: setup.node, logger: setup.logger)
    let printSamples = args.flag("print-samples")
    let runner = AgentRunner(devices: devices, sampler: sampler, interval: interval, clock: clock, logger: setup.logger) { s in
        if printSamples { writeLine(s.jsonText(pretty: false)) }
    }
    runner.sampleLimit = limit
    runner.powerOffCommand = setup.config.powerOffCommand
    do { try runner.run() } catch { throw .failed("event loop: \(error)") }
    return 0
}
