import NexusBoards

let configSpec = CommandSpec(
    path: "config", usage: "config check [FILE]",
    summary: "Validate an agent config (default \(AgentConfig.defaultPath)) and that it fits its board, without touching any device.",
    options: [])

/// Lets an image tool or an admin check a config before it reaches a node: keys, types,
/// ranges, the board, and the wake settings against that board. Files the config names
/// (keys, certificates) are paths on the node and are not opened here.
func configCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    guard args.positionals.first == "check", args.positionals.count <= 2 else {
        throw .usage(UsageError(message: "usage: nexus-agent config check [FILE]", command: "config"))
    }
    let path = args.positionals.count == 2 ? args.positionals[1] : AgentConfig.defaultPath
    do {
        let c = try AgentConfig.load(path: path)
        let board = try BoardCatalog.load(c.board)
        let node = c.node ?? hostNodeName()
        try c.check(against: board, node: node)
        print("\(path): ok (node \(node), board \(board.name)" + (c.mqtt.map { ", broker \($0.broker)" } ?? "") + ")")
        return 0
    } catch {
        throw .config(error)
    }
}
