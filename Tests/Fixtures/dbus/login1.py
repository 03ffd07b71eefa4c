#!/usr/bin/python3
"""org.freedesktop.login1.Manager's CanPowerOff and PowerOff, as systemd-logind answers
them, on the bus in DBUS_SYSTEM_BUS_ADDRESS. Each call is printed on stdout for the test.

    login1.py yes       CanPowerOff says yes; PowerOff succeeds
    login1.py denied    CanPowerOff says challenge; PowerOff fails as polkit makes it fail
"""
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MODE = sys.argv[1] if len(sys.argv) > 1 else "yes"


class Manager(dbus.service.Object):
    @dbus.service.method("org.freedesktop.login1.Manager", in_signature="", out_signature="s")
    def CanPowerOff(self):
        print("CanPowerOff", flush=True)
        return "yes" if MODE == "yes" else "challenge"

    @dbus.service.method("org.freedesktop.login1.Manager", in_signature="b", out_signature="")
    def PowerOff(self, interactive):
        print(f"PowerOff interactive={bool(interactive)}", flush=True)
        if MODE != "yes":
            # What logind returns when polkit says no and interaction is not allowed.
            raise dbus.exceptions.DBusException(
                "Interactive authentication required.",
                name="org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")


DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
name = dbus.service.BusName("org.freedesktop.login1", bus)
Manager(bus, "/org/freedesktop/login1")
print("ready", flush=True)
GLib.MainLoop().run()
