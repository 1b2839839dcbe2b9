"""The commands: what a command works on (workspace), and each command over it: revision,
upgrade and downgrade (workspace), forget, adopt, merge, from-models, check, demo."""
