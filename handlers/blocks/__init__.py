"""Every Block Kit payload Baton sends: pure functions from the coaching layer's snapshots to messages and views.

base.py holds `Message`, Slack's limits and the small parts; text.py escapes what people typed and
puts dates and people in words; ids.py holds every id and button-value format, shared with the
listeners that read them back; one module per feature builds the rest. No I/O anywhere here.
"""
