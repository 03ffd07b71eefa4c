public enum NetworkInterfaces {
    /// Hardware addresses of the machine's network interfaces (loopback and all-zero
    /// ones left out), as `name=aa:bb:cc:dd:ee:ff`, for the status message's capabilities.
    public static func macAddresses(sysClassNet: String = "/sys/class/net") -> [String] {
        var out: [String] = []
        for name in directoryEntries(sysClassNet) {
            guard !name.hasPrefix("."), name != "lo",
                  let bytes = try? readSmallFile("\(sysClassNet)/\(name)/address", limit: 64) else { continue }
            let mac = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            guard mac.count == 17, mac != "00:00:00:00:00:00" else { continue }
            out.append("\(name)=\(mac)")
        }
        return out.sorted()
    }
}
