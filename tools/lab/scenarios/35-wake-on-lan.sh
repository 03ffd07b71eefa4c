# Scenario 4: the agent reads whether Wake-on-LAN is armed from a real NIC driver
# (QEMU's rtl8139 with the kernel's 8139cp, on a hub with nothing else on it) through ETHTOOL_GWOL,
# and publishes it in its status: disarmed is a warning, armed is not. Debian's ethtool
# sets the state, as an admin or a .link file would.
broker_start
[ -e /sys/class/net/eth0 ]
check nic-present $? "eth0: $(cat /sys/class/net/eth0/device/uevent 2>/dev/null | grep DRIVER)"
ethtool eth0 > /tmp/ethtool.txt 2>&1
grep -q 'Supports Wake-on: .*g' /tmp/ethtool.txt
check nic-supports-magic $? "$(grep 'Supports Wake-on' /tmp/ethtool.txt)"

status_of() { # status_of WOL: sets the NIC's wol to WOL, runs the agent, keeps its status
  ethtool -s eth0 wol "$1"
  rm -f /tmp/wol.log
  "$AGENT" run --config /lab/agent-wol.yaml --broker mqtt://127.0.0.1:1883 > /dev/null 2> /tmp/wol.log &
  pid=$!
  wait_for 15 grep -q "MQTT connected" /tmp/wol.log
  mosquitto_sub -h 127.0.0.1 -t nexusgrid/v1/lab-pc/status -C 1 > /tmp/wol-$1.json 2>&1
  kill -TERM $pid; wait $pid
}

status_of d
grep -q '"wake":{"method":"wol","interface":"eth0","armed":false}' /tmp/wol-d.json
check disarmed-in-status $? "$(grep -o '"wake":{[^}]*}' /tmp/wol-d.json)"
grep -q '"warnings":\["Wake-on-LAN is not armed on eth0' /tmp/wol-d.json
check disarmed-warning $? "$(grep -o '"warnings":\[[^]]*\]' /tmp/wol-d.json)"
expect_contains disarmed-logged /tmp/wol.log "Wake-on-LAN is not armed on eth0"

status_of g
grep -q '"wake":{"method":"wol","interface":"eth0","armed":true}' /tmp/wol-g.json
check armed-in-status $? "$(grep -o '"wake":{[^}]*}' /tmp/wol-g.json)"
grep -q '"warnings":\[\]' /tmp/wol-g.json
check armed-no-warning $? "$(grep -o '"warnings":\[[^]]*\]' /tmp/wol-g.json)"
expect_contains armed-logged /tmp/wol.log "Wake-on-LAN armed interface=eth0"
