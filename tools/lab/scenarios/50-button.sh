# Scenario 4: the chassis button on GPIO26 (active-low, pull-up), pressed through the
# sim's pull file. A power-off here only leaves a mark (agent-button.yaml).
sim_create
sim_live 1 2>/dev/null
D=$(sim_dir)
sim_pull 26 pull-up
rm -f /tmp/poweroff-requested
agent_start /tmp/b.log /tmp/b.out --config /lab/agent-button.yaml --board /lab/boards/pi4b-lab-i2c.yaml --interval 1 --log-level debug
wait_for 10 grep -q "agent running" /tmp/b.log
check agent-started $? "agent running"
presses() { grep -c "button press: $1" /tmp/b.log; }

# A 300 ms press with a 5 ms bounce train (4 extra edges) at both ends: one short press.
bounce "$D/sim_gpio26/pull" 300 4
wait_for 5 grep -q "button press: short" /tmp/b.log
check short-press $? "classified short"
sleep 0.5
expect_eq bounce-counts-once "$(presses short)" 1
expect_contains short-press-identifies /tmp/b.log "led=status pattern=identify"

bounce "$D/sim_gpio26/pull" 3000 2
wait_for 5 grep -q "button press: long" /tmp/b.log
check long-press $? "classified long"
expect_eq long-counts-once "$(presses long)" 1

bounce "$D/sim_gpio26/pull" 9000 2
wait_for 5 grep -q "button press: very-long" /tmp/b.log
check very-long-press $? "classified very-long"
wait_for 5 test -f /tmp/poweroff-requested
check very-long-runs-power-off $? "power_off_command ran"
expect_eq no-stray-presses "$(presses short) $(presses long) $(presses very-long)" "1 1 1"
agent_stop TERM
