import NexusBoards

let boardsSpec = CommandSpec(
    path: "boards", usage: "boards [show NAME | check FILE]",
    summary: "List the built-in board profiles, print one, or validate a board file.",
    options: [])

func boardsCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    switch args.positionals.first {
    case nil:
        for name in BoardCatalog.names {
            do {
                let b = try BoardCatalog.load(name)
                print(name.padded(10) + b.model)
            } catch {
                print(name.padded(10) + "INVALID: \(error)")
            }
        }
        return 0
    case "show":
        guard args.positionals.count == 2, let text = BoardCatalog.text(named: args.positionals[1]) else {
            throw .usage(UsageError(message: "boards show needs one of: " + BoardCatalog.names.joined(separator: ", "), command: "boards"))
        }
        print(text)
        return 0
    case "check":
        guard args.positionals.count == 2 else { throw .usage(UsageError(message: "boards check needs a file", command: "boards")) }
        let path = args.positionals[1]
        do {
            let b = try BoardCatalog.load(path.contains("/") ? path : "./" + path)
            print("\(path): ok (board \(b.name), \(b.sensors.count) sensors, \(b.leds.count) LEDs, \(b.relays.count) relays)")
            return 0
        } catch {
            throw .config(error)
        }
    case let other?:
        throw .usage(UsageError(message: "unknown boards action '\(other)'", command: "boards"))
    }
}
