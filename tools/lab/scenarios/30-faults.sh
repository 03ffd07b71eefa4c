# Scenario 6: missing and failing devices. The agent keeps running, reports each fault in
# its samples, and recovers when the device appears.
rmmod i2c_stub 2>/dev/null
[ -d "$SIM" ] && sim_live 0
B=/lab/boards/pi4b-lab-i2c.yaml
agent_start /tmp/f.log /tmp/f.out --board $B --interval 0.3
wait_for 10 grep -q faults /tmp/f.out
agent_alive; check runs-without-devices $? "agent alive with no /dev/i2c-0 and no GPIO chip"
tail -1 /tmp/f.out > /tmp/f1.json
expect_contains reports-missing-bus /tmp/f1.json "/dev/i2c-0"
expect_contains reports-missing-gpio /tmp/f1.json "pinctrl-bcm2711"
expect_contains logs-missing-gpio /tmp/f.log "GPIO unavailable"

# The bus appears, but nothing answers at 0x40.
load_stub 0x41
wait_for 10 sh -c 'tail -1 /tmp/f.out | grep -q "/dev/i2c-0 address 0x40 register 0x.*no acknowledge"'
check reports-not-answering $? "$(tail -1 /tmp/f.out | grep -o '"error":"[^"]*"' | head -1)"
agent_alive; check runs-while-not-answering $? "agent alive"

# The chip answers: the next samples read it.
load_stub 0x40
ina_set 0x01 0x1388; ina_set 0x02 0x2712; ina_set 0x03 0x04E2; ina_set 0x04 0x1388
wait_for 10 sh -c 'tail -1 /tmp/f.out | grep -q "\"status\":\"ok\""'
check recovers-sensor $? "a sample with status ok"
tail -1 /tmp/f.out > /tmp/f2.json
expect_near recovered-power "$(json_field /tmp/f2.json power_w)" 2.5 0.0001

# The GPIO chip comes live: lines are taken, outputs driven.
sim_create
sim_live 1
check sim-live $? "gpio-sim live"
wait_for 10 grep -q "GPIO available again" /tmp/f.log
check recovers-gpio $? "log says GPIO available again"
# Active-low relay on normally-closed contacts: powered = high, driven by the agent (the
# sim's pull is down, so a 1 here is the agent's doing).
wait_for 5 sh -c "[ \"\$(cat $(sim_dir)/sim_gpio22/value)\" = 1 ]"
check relay-driven-safe $? "GPIO22 high"
wait_for 10 sh -c 'tail -1 /tmp/f.out | grep -q "\"faults\":\[\]"'
check faults-cleared $? "a sample with no faults"
expect_contains faults-cleared-logged /tmp/f.log "faults cleared"
agent_stop TERM
check agent-exit $? "SIGTERM exit status"
