# Scenario 5 (runs last): a very long press makes the agent power the node off through its
# configured path; here that is `reboot -f`, which ends the guest. The host checks that
# the guest ended.
sim_create
sim_live 1 2>/dev/null
D=$(sim_dir)
sim_pull 26 pull-up
agent_start /tmp/p.log /tmp/p.out --board /lab/boards/pi4b-lab-i2c.yaml --interval 1
wait_for 10 grep -q "agent running" /tmp/p.log
check agent-started $? "agent running"
echo "VLAB-SHUTDOWN-ARMED"
bounce "$D/sim_gpio26/pull" 9000 2
sleep 20
check guest-ended 1 "the guest was still running 20 s after the press"
cat /tmp/p.log
