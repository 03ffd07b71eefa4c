internal import CSystemd

/// systemd-logind's Manager over the system bus: how an unprivileged agent powers the node
/// off, with a polkit rule granting its user org.freedesktop.login1.power-off.
public enum Logind {
    /// CanPowerOff: "yes", "no", "challenge" (polkit would ask for a password) or "na".
    public static func canPowerOff() throws(HardwareError) -> String {
        var answer = [CChar](repeating: 0, count: 32)
        var message = [CChar](repeating: 0, count: 512)
        let r = nexus_logind_can_power_off(&answer, answer.count, &message, message.count)
        guard r == 0 else { throw failure(r, message) }
        return String(cBuffer: answer)
    }

    /// PowerOff(interactive=false): logind starts poweroff.target and the call returns.
    public static func powerOff() throws(HardwareError) {
        var message = [CChar](repeating: 0, count: 512)
        let r = nexus_logind_power_off(&message, message.count)
        guard r == 0 else { throw failure(r, message) }
    }

    static func failure(_ r: CInt, _ message: [CChar]) -> HardwareError {
        let e = Errno(rawValue: -r)
        var hint = String(cBuffer: message)
        if e == .accessDenied || e == .notPermitted || hint.contains("Interactive authentication required") {
            hint += "; the agent's user needs a polkit rule for org.freedesktop.login1.power-off (docs/wake.md)"
        }
        return HardwareError(.powerOff, device: "systemd-logind (org.freedesktop.login1)", errno: e, hint: hint)
    }
}
