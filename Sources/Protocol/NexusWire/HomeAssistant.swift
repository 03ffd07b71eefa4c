/// Home Assistant MQTT discovery: retained `config` messages that make the feed's
/// values appear as entities of one device per node, with `status` as availability.
public enum HomeAssistantDiscovery {
    public struct Entity: Equatable, Sendable {
        public var objectID: String
        public var name: String
        public var stateTopic: String
        public var valueTemplate: String
        public var unit: String?
        public var deviceClass: String?
        public var stateClass: String?
    }

    public static func topic(prefix: String, node: String, objectID: String) -> String {
        "\(prefix)/sensor/\(node)/\(objectID)/config"
    }

    public static func config(_ e: Entity, node: String, model: String, version: String) -> JSONValue {
        var f: [(String, JSONValue)] = [
            ("name", .string(e.name)),
            ("unique_id", .string("nexusgrid_\(node)_\(e.objectID)")),
            ("object_id", .string("\(node)_\(e.objectID)")),
            ("state_topic", .string(e.stateTopic)),
            ("value_template", .string(e.valueTemplate)),
        ]
        if let u = e.unit { f.append(("unit_of_measurement", .string(u))) }
        if let d = e.deviceClass { f.append(("device_class", .string(d))) }
        if let s = e.stateClass { f.append(("state_class", .string(s))) }
        f += [
            ("availability_topic", .string(FeedTopic.status(node))),
            ("availability_template", .string("{{ 'online' if value_json.online else 'offline' }}")),
            ("device", .object([("identifiers", .array([.string("nexusgrid_\(node)")])), ("name", .string(node)),
                                ("manufacturer", .string("NexusGrid")), ("model", .string(model)),
                                ("sw_version", .string(version))])),
        ]
        return .object(f)
    }

    /// The node's entities: total power and energy, each meter's power, each temperature,
    /// and the agent's state.
    public static func entities(node: String, meters: [(name: String, label: String)],
                                temperatures: [(index: Int, label: String)]) -> [Entity] {
        let telemetry = FeedTopic.telemetry(node)
        var out = [
            Entity(objectID: "power", name: "Power", stateTopic: telemetry, valueTemplate: "{{ value_json.total_power_w }}",
                   unit: "W", deviceClass: "power", stateClass: "measurement"),
            Entity(objectID: "energy", name: "Energy", stateTopic: telemetry, valueTemplate: "{{ value_json.energy_kwh }}",
                   unit: "kWh", deviceClass: "energy", stateClass: "total_increasing"),
            Entity(objectID: "state", name: "State", stateTopic: FeedTopic.status(node), valueTemplate: "{{ value_json.state }}"),
        ]
        for (i, m) in meters.enumerated() {
            out.append(Entity(objectID: "\(m.name)_power", name: "\(m.label) power", stateTopic: telemetry,
                              valueTemplate: "{{ value_json.power[\(i)].power_w }}", unit: "W", deviceClass: "power",
                              stateClass: "measurement"))
        }
        for t in temperatures {
            out.append(Entity(objectID: "temperature_\(t.index)", name: "\(t.label) temperature", stateTopic: telemetry,
                              valueTemplate: "{{ value_json.temperatures[\(t.index)].celsius }}", unit: "°C",
                              deviceClass: "temperature", stateClass: "measurement"))
        }
        return out
    }
}
