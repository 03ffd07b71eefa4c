import NexusCrypto
import NexusHardware
import NexusWire
import NexusBoards
import NexusAgent

let signSpec = CommandSpec(
    path: "sign", usage: "sign --key FILE --node NODE --verb VERB [--payload JSON] [--key-name NAME]",
    summary: "Sign a command for an agent (docs/commands.md) and print the envelope to publish.",
    options: [
        OptionSpec(name: "key", value: "FILE", help: "Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)."),
        OptionSpec(name: "node", value: "NODE", help: "The node the command is for (part of the signed topic)."),
        OptionSpec(name: "verb", value: "VERB", help: "identify, relay, sleep, reboot or wake."),
        OptionSpec(name: "payload", value: "JSON", help: "The command's JSON object; an \"id\" is added if missing. Default {}."),
        OptionSpec(name: "key-name", value: "NAME", help: "The name the agents know this key by (default coordinator)."),
        OptionSpec(name: "timestamp-ms", value: "MS", help: "Sign with this time instead of now (tests)."),
    ],
    discussion: """
    Prints the envelope JSON on stdout; publish it to nexusgrid/v1/NODE/cmd/VERB at QoS 1:
      mosquitto_pub -q 1 -t nexusgrid/v1/n1/cmd/identify -m "$(nexus-agent sign --key k.pem --node n1 --verb identify)"
    """)

func signCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    func usage(_ m: String) -> CommandFailure { .usage(UsageError(message: m, command: "sign")) }
    guard let keyPath = args.value("key") else { throw usage("--key is required") }
    guard let node = args.value("node"), AgentConfig.isValidNodeName(node) else { throw usage("--node is required (a-z, 0-9, -)") }
    guard let verb = args.value("verb"), CommandHandler.verbs.contains(verb) else {
        throw usage("--verb must be one of: " + CommandHandler.verbs.joined(separator: ", "))
    }
    guard let key = Ed25519.PrivateKey(pemFile: keyPath) else {
        throw .failed("\(keyPath) is not a readable Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)")
    }
    let payload: JSONValue
    do { payload = try JSONParser.parse(Array((args.value("payload") ?? "{}").utf8)) } catch { throw usage("--payload: \(error)") }
    guard case .object(let members) = payload else { throw usage("--payload must be a JSON object") }
    var ts = SystemClock.wallMilliseconds
    if let t = args.value("timestamp-ms") {
        guard let v = Int64(t) else { throw usage("--timestamp-ms must be a whole number") }
        ts = v
    }
    guard let c = SignedCommand.issue(node: node, verb: verb, payload: members, key: args.value("key-name") ?? "coordinator",
                                      privateKey: key, timestampMs: ts) else {
        throw .failed("signing failed (no randomness for the nonce?)")
    }
    print(c.json.serialized())
    return 0
}
