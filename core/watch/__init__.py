"""Watch: the bot runs doctor on its own and opens (and closes) alerts in subscribed channels.

probe.py       one check's readout: doctor plus the counts the rules need
rules.py       the rules and their thresholds: readout in, conditions out (pure)
hysteresis.py  a condition opens an alert after N checks and resolves after M clear (pure)
lease.py       the leader lease with a fencing token: one replica watches at a time
store.py       subscriptions, snoozes, alert state and posted messages in Redis
engine.py      one check by the leader: read, evaluate, step, save, deliver
alerts.py      what a surface is told to post (views) and the port it implements
fixes.py       the triage bulk actions a paused or backing-off alert offers
control.py     watch / unwatch / snooze / status for operators, authorized and audited
"""
