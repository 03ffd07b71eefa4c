import NexusHardware
import NexusBoards
#if canImport(Glibc)
import Glibc
#endif

let topHelp = """
nexus-agent \(version): the NexusGrid node agent. Reads power (INA219 over I2C or hwmon),
temperatures (libsensors) and load; drives status LEDs and PoE relays; reads the chassis
button. Runs on the simulated board by default, so it works on a machine without hardware.

Usage: nexus-agent COMMAND [OPTIONS]

Commands:
  sensors     print one reading of every sensor (table or --json)
  run         run the agent loop until SIGTERM
  gpio        test LEDs, relays and the button
  boards      list, show or check board profiles
  config      check an agent config file against its board
  sign        sign a command for an agent (Ed25519)
  wake        send a Wake-on-LAN magic packet

Options:
  --help      this help; `nexus-agent COMMAND --help` explains a command
  --version   print the version

Files: \(AgentConfig.defaultPath) (agent config, docs/configuration.md),
boards/*.yaml (board profiles, built in; docs/boards.md).
"""

let commands: [(CommandSpec, (ParsedArguments) throws(CommandFailure) -> Int32)] = [
    (sensorsSpec, sensorsCommand), (runSpec, runCommand), (gpioSpec, gpioCommand), (boardsSpec, boardsCommand), (configSpec, configCommand),
    (signSpec, signCommand), (wakeSpec, wakeCommand),
]

@MainActor
func main() -> Int32 {
    // A broker that vanishes mid-write must be an error return, not a fatal SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    let argv = CommandLine.arguments.dropFirst()
    guard let first = argv.first else {
        print(topHelp)
        return 2
    }
    if first == "--help" || first == "-h" || first == "help" {
        if first == "help", argv.count > 1, let c = commands.first(where: { $0.0.path == argv[argv.startIndex + 1] }) {
            print(c.0.helpText)
        } else {
            print(topHelp)
        }
        return 0
    }
    if first == "--version" {
        print("nexus-agent \(version) (libsensors \(LibSensors.version), libgpiod v\(GPIOChip.libgpiodAPI) API)")
        return 0
    }
    guard let (spec, run) = commands.first(where: { $0.0.path == first }) else {
        printError("unknown command '\(first)'. Commands: " + commands.map(\.0.path).joined(separator: ", ") + ". See 'nexus-agent --help'.")
        return 2
    }
    do throws(CommandFailure) {
        let args: ParsedArguments
        do { args = try parse(argv.dropFirst(), spec) } catch { throw .usage(error) }
        if args.help {
            print(spec.helpText)
            return 0
        }
        return try run(args)
    } catch {
        printError(error.description)
        return error.exitCode
    }
}

exit(main())
