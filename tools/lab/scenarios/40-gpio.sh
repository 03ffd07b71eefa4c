# Scenario 3: LEDs and relays on gpio-sim lines named like a Pi 4's (GPIO17 status LED,
# GPIO27 fault LED, GPIO22 relay poe1: active-low, normally-closed).
sim_create
sim_live 1 2>/dev/null
load_stub 0x40
ina_set 0x01 0x1388; ina_set 0x02 0x2712; ina_set 0x03 0x04E2; ina_set 0x04 0x1388
D=$(sim_dir)
B=/lab/boards/pi4b-lab-i2c.yaml

agent_start /tmp/g.log /tmp/g.out --board $B --interval 0.5
wait_for 10 grep -q "agent running" /tmp/g.log
check agent-started $? "agent running"
expect_eq relay-powered-at-start "$(cat $D/sim_gpio22/value)" 1
sleep 1
expect_eq fault-led-dark-when-healthy "$(cat $D/sim_gpio27/value)" 0
# Heartbeat: 100 on, 100 off, 100 on, 700 off: lit 20% of the time, 4 edges a second.
duty_check status-led-heartbeat "$(watch_line 17 3000)" 0.08 0.35 6
# A figure, not a check: the running agent's peak RSS on this architecture.
echo "VLAB-FIGURE $(uname -m) agent-run-peak-rss-kib $(awk '/VmHWM/ { print $2 }' /proc/$AGENT_PID/status)"

# The meter reports an overflow (a fault): the fault LED blinks (100/100).
ina_set 0x02 0x2713
wait_for 10 sh -c 'tail -1 /tmp/g.out | grep -q "\"status\":\"overflow\""'
check fault-seen $? "a sample with the meter in overflow"
duty_check fault-led-blinks "$(watch_line 27 2000)" 0.3 0.7 8
ina_set 0x02 0x2712
wait_for 10 sh -c 'tail -1 /tmp/g.out | grep -q "\"faults\":\[\]"'
check fault-cleared $? "a sample with no faults"
sleep 0.5
duty_check fault-led-dark-again "$(watch_line 27 1000)" 0 0 0

# Exit: the relay board's own pull-up (emulated here) keeps a released line high, so a
# released line means powered; the agent drives the same level until it lets go.
sim_pull 22 pull-up
agent_stop TERM
check sigterm-exit $? "exit status 0"
expect_eq relay-powered-after-exit "$(cat $D/sim_gpio22/value)" 1
expect_eq status-led-dark-after-exit "$(cat $D/sim_gpio17/value)" 0
expect_contains safe-state-logged /tmp/g.log "relays powered, LEDs off, lines released"

agent_start /tmp/g2.log /tmp/g2.out --board $B --interval 0.5
wait_for 10 grep -q "agent running" /tmp/g2.log
agent_stop KILL
expect_eq relay-powered-after-kill "$(cat $D/sim_gpio22/value)" 1

# A relay cycle through the test command: cut now, restored no sooner than the board's
# 5 s minimum off-time. Pull-down again, so a high can only come from the command.
sim_pull 22 pull-down
t0=$(now_ms)
$AGENT gpio relay poe1 cycle --config /lab/agent.yaml --board $B > /tmp/g3.out 2> /tmp/g3.err &
cyc=$!
wait_for 5 sh -c "[ \"\$(cat $D/sim_gpio22/value)\" = 0 ] && grep -q 'power cut' /tmp/g3.out"
check relay-cut $? "GPIO22 low (coil energised, power cut)"
sleep 4
expect_eq relay-still-cut-at-4s "$(cat $D/sim_gpio22/value)" 0
wait $cyc
check cycle-exit $? "gpio relay cycle exit status"
t1=$(now_ms)
[ $((t1 - t0)) -ge 5000 ]; check min-off-time $? "took $((t1 - t0)) ms"
expect_contains relay-restored /tmp/g3.out "power restored"
