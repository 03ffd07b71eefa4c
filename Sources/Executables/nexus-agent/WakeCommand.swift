import NexusHardware

let wakeSpec = CommandSpec(
    path: "wake", usage: "wake --mac AA:BB:CC:DD:EE:FF [--interface IF] [--raw] [--password PW]",
    summary: "Send a Wake-on-LAN magic packet.",
    options: [
        OptionSpec(name: "mac", value: "MAC", help: "The sleeping machine's MAC address."),
        OptionSpec(name: "interface", value: "IF", help: "Send out of this interface (required with --raw)."),
        OptionSpec(name: "raw", value: nil, help: "A raw Ethernet frame of type 0x0842, as etherwake sends it (needs CAP_NET_RAW); default is UDP broadcast to port 9."),
        OptionSpec(name: "password", value: "PW", help: "SecureOn password: 6 bytes as AA:BB:CC:DD:EE:FF or 4 as 1.2.3.4."),
        OptionSpec(name: "port", value: "N", help: "UDP port (default 9)."),
    ],
    discussion: """
    The magic packet is 6 bytes of 0xFF and the MAC 16 times, then the password if any.
    UDP goes to 255.255.255.255 and needs no privilege; the machine's NIC must have
    Wake-on-LAN armed (ethtool IF | grep Wake-on; docs/wake.md).
    """)

func wakeCommand(_ args: ParsedArguments) throws(CommandFailure) -> Int32 {
    func usage(_ m: String) -> CommandFailure { .usage(UsageError(message: m, command: "wake")) }
    guard let text = args.value("mac") else { throw usage("--mac is required") }
    guard let mac = MACAddress(text) else { throw usage("--mac: '\(text)' is not a MAC address (AA:BB:CC:DD:EE:FF)") }
    var password: [UInt8]?
    if let p = args.value("password") {
        guard let pw = WakeOnLAN.password(p) else { throw usage("--password: '\(p)' is neither 6 bytes (AA:BB:CC:DD:EE:FF) nor 4 (1.2.3.4)") }
        password = pw
    }
    var port: UInt16 = 9
    if let p = args.value("port") {
        guard let v = UInt16(p), v > 0 else { throw usage("--port: '\(p)' is not a port number") }
        port = v
    }
    let packet = WakeOnLAN.magicPacket(mac, password: password)
    let rawInterface = args.value("interface")
    if args.flag("raw"), rawInterface == nil { throw usage("--raw needs --interface") }
    do throws(HardwareError) {
        if args.flag("raw"), let interface = rawInterface {
            try WakeOnLAN.sendRaw(packet, to: mac, interface: interface)
            print("sent a raw Wake-on-LAN frame (0x0842) to \(mac) on \(interface)")
        } else {
            try WakeOnLAN.sendUDP(packet, interface: args.value("interface"), port: port)
            print("sent a Wake-on-LAN packet for \(mac) to 255.255.255.255:\(port)" + (args.value("interface").map { " on \($0)" } ?? ""))
        }
    } catch {
        throw .failed("wake: \(error)")
    }
    return 0
}
