"""The local try-out: the real app, a stand-in Slack, a demo team, and a terminal to type into."""
